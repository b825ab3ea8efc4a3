//! The decimal places the simulated exchange books computed prices and fees at: the only
//! roundings in its otherwise exact arithmetic, each applied in the direction that costs the
//! trader.

/// Decimal places a computed price (slippage, stop and target levels) is rounded to. Venues
/// trade on a tick grid; without the instrument's tick size, 8 places keeps every fill value
/// (price·qty, both ≤ 8 places) within 16 places, far inside `Decimal`'s 28 digits.
pub const PRICE_DP: u32 = 8;

/// Decimal places fees are booked at: Binance reports commissions to 8 places. Without it,
/// cash would gather the digits of every price·qty·rate until a sum no longer fitted a
/// `Decimal` exactly.
pub const FEE_DP: u32 = 8;
