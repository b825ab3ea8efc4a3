//! The outside world, translated into inputs: Binance's market-stream parser, data-file
//! importers and adding their events to a data log today; exchange clients, AI providers, news
//! feeds and notification channels later. Adapters translate; they never decide anything.

pub mod binance;
pub mod import;
pub mod recording;
