//! The outside world: exchange protocol parsers and clients, data-file importers, AI providers,
//! news feeds and notification channels. Adapters translate; they never decide anything.

pub mod binance;
pub mod import;
pub mod recording;
