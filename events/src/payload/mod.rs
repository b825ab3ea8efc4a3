//! Typed event payloads, one plain struct per event, grouped by domain.

pub mod control;
pub mod external;
pub mod manifest;
pub mod market;
pub mod order;
pub mod risk;
pub mod side;
