//! The order lifecycle, from a pair's intent through the risk decision to the exchange's
//! reports, plus fills, positions and equity.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::ids::ClientOrderId;
use crate::money::{Money, Price, Quantity, Rate};
use crate::payload::risk::RiskCheck;

pub use crate::payload::side::{PositionSide, Side};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderType {
    Market,
    Limit { price: Price },
    StopMarket { trigger: Price },
    StopLimit { trigger: Price, price: Price },
    TakeProfitMarket { trigger: Price },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    Gtc,
    Ioc,
    Fok,
    PostOnly,
}

/// Why an order exists: risk treats entries and exits differently (exits are never blocked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderPurpose {
    Entry,
    AddOn,
    Exit,
    ForceClose,
}

/// A pair asks to trade; nothing reaches an exchange before the RiskSupervisor approves it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderIntent {
    pub order_id: ClientOrderId,
    pub side: Side,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub qty: Quantity,
    /// The price the pair expects to trade at; slippage is measured against it.
    pub expected_price: Price,
    pub leverage: Rate,
    pub reduce_only: bool,
    pub purpose: OrderPurpose,
    /// The rule or signal that produced the intent, e.g. `entry: ema_cross` or `exit: stop_loss`.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderApproved {
    pub order_id: ClientOrderId,
    /// The approved quantity; a supervisor configured to reduce rather than veto may lower it.
    pub qty: Quantity,
}

/// The RiskSupervisor refused an intent; `check` names the rule, threshold and observed value.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderVetoed {
    pub order_id: ClientOrderId,
    pub check: RiskCheck,
}

/// An approved order handed to the exchange connection (the log is synced through here first).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderSubmitted {
    pub order_id: ClientOrderId,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderAccepted {
    pub order_id: ClientOrderId,
    /// The exchange's own id for the order.
    pub venue_order_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderRejected {
    pub order_id: ClientOrderId,
    /// The venue's error code when it gave one (Binance `-2010` …).
    pub code: Option<i64>,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    Maker,
    Taker,
}

/// One execution of an order.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Fill {
    pub order_id: ClientOrderId,
    pub venue_trade_id: Option<u64>,
    pub side: Side,
    pub price: Price,
    pub qty: Quantity,
    /// Fee in the quote currency; never negative except maker rebates, which are explicit.
    pub fee: Money,
    pub liquidity: Liquidity,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderPartiallyFilled {
    pub fill: Fill,
    pub cum_qty: Quantity,
    pub leaves_qty: Quantity,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderFilled {
    pub fill: Fill,
    pub cum_qty: Quantity,
    pub avg_price: Price,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct CancelRequested {
    pub order_id: ClientOrderId,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderCanceled {
    pub order_id: ClientOrderId,
    pub filled_qty: Quantity,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OrderExpired {
    pub order_id: ClientOrderId,
    pub filled_qty: Quantity,
}

/// A pair's position after a change. Flat is `qty == 0` with `side == None`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct PositionUpdated {
    pub side: Option<PositionSide>,
    pub qty: Quantity,
    pub avg_entry: Price,
    pub mark: Price,
    pub leverage: Rate,
    pub liquidation_price: Option<Price>,
    pub realized_pnl: Money,
    pub unrealized_pnl: Money,
    pub fees: Money,
    pub funding: Money,
}

/// A funding payment on a perpetual position: positive `amount` is received, negative paid.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct FundingPaid {
    pub rate: Rate,
    pub position_qty: Quantity,
    pub mark: Price,
    pub amount: Money,
}

/// A bot's account after a change.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct EquityUpdated {
    pub cash: Money,
    pub equity: Money,
    pub realized_pnl: Money,
    pub unrealized_pnl: Money,
    pub fees: Money,
    pub funding: Money,
    pub peak_equity: Money,
    /// Drawdown from `peak_equity` as a fraction (0.05 = 5%).
    pub drawdown: Rate,
}
