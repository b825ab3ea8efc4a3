//! Strategy mode: templates of entry and exit conditions over prices and indicators.

pub mod expr;
