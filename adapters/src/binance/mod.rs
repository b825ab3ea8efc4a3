//! Binance: spot and USD-M futures protocols.

pub mod stream;
