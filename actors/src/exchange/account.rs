//! A bot's account at the simulated exchange, in one quote currency, kept exactly: cash,
//! positions per symbol, fees, funding and realized P&L, changed only by fills and funding.
//!
//! # Assumptions
//!
//! - **One quote currency, one wallet.** Every amount is in the bot's quote currency (USDT, say).
//!   Each symbol is either [`MarketKind::Spot`] or [`MarketKind::Perpetual`], fixed by its first
//!   fill; a later fill naming the other kind is refused.
//! - **Spot is long only and fully paid.** A buy costs `price·qty + fee` and is refused if cash
//!   would go negative; a sell of more than is held is refused (no borrowing, no margin). A sell
//!   adds `price·qty − fee` to cash and realizes `(price − entry)·qty`.
//! - **Perpetuals are linear (USDT-margined), one-way mode** (one net position per symbol, no
//!   hedge mode). A fill in the position's direction (or from flat) increases it; the opposite
//!   side reduces it and realizes `(exit − entry)·qty` for a long, `(entry − exit)·qty` for a
//!   short, into cash; a fill larger than the position closes it and opens the remainder the
//!   other way at the fill price. Cash moves only by realized P&L, fees and funding: opening a
//!   position moves no cash.
//! - **Margin is cross margin.** Opening, increasing or flipping a perpetual requires the
//!   position's initial margin after the fill, `qty·price / leverage`, to fit in the available
//!   margin: cash after the fill plus the unrealized P&L of every perpetual (other positions at
//!   their marks, this one at the fill price), minus the initial margin of the other perpetual
//!   positions (at their marks). Spot holdings are not collateral (Binance keeps them in a
//!   separate wallet). Reducing never needs margin. The account does not liquidate: a position
//!   may lose more than its margin here, and [`liquidation_price`] is an estimate for risk rules
//!   to act on.
//! - **Leverage is per position** and is set by the fill that opens or increases it, for the whole
//!   position (Binance's leverage is a per-symbol setting); a reducing fill's leverage is ignored.
//!   Spot leverage is 1. There is no upper bound here: that is the RiskSupervisor's rule.
//! - **Average entry** is the quantity-weighted mean price of the fills that opened the position;
//!   reductions leave it unchanged (as Binance does).
//! - **Fees are never negative.** A maker rebate (a negative fee) is out of scope and refused; the
//!   default fees are all positive. Fees always come out of cash, for spot and perpetuals alike.
//! - **Funding** on a perpetual is `qty·mark·rate` rounded to 8 places ([`FUNDING_DP`]),
//!   paid by longs to shorts when the rate is positive and the other way when it is negative.
//!   Spot and flat positions pay none.
//! - **Marks** come from the caller as a function of the symbol. A position without a mark is
//!   valued at its entry: spot at its entry value, a perpetual with zero unrealized P&L.
//! - A refused fill or funding leaves the account exactly as it was.
//!
//! # Exactness and rounding
//!
//! Cash, fees, funding, realized P&L, entry values and quantities change only by `+`, `−` and `×`
//! of decimals, which are exact; the [`exact`] helpers refuse (with
//! [`AccountError::Inexact`]) any result that `Decimal` would have to round, so nothing is ever
//! rounded silently. Amounts are rounded where an exchange books them at a fixed precision,
//! and only there: a funding payment to [`FUNDING_DP`] places here, a fee to 8 places by the
//! fill model, both before they reach cash. There are two divisions:
//!
//! - **Average entry** is `entry value / qty`, rounded to [`AVG_ENTRY_DP`] (12) decimal places
//!   with banker's rounding (after `Decimal`'s own 28-digit quotient). It is the only rounded
//!   quantity in the account's state, and it never makes money appear or vanish: each position
//!   also keeps its exact entry value ([`Position::entry_value`]), unrealized P&L is measured
//!   against that, and the fill that closes a position realizes `exit value − entry value`
//!   exactly. The residue `entry_value − avg_entry·qty` is set when the average is computed
//!   (at most half a unit of the 12th decimal place per unit of quantity, plus `Decimal`'s
//!   28-digit rounding), is carried unchanged through partial reductions (which realize
//!   `(exit − avg_entry)·qty` and remove `avg_entry·qty` from the entry value), and is realized
//!   by the fill that closes the position. Over a whole position's life realized P&L equals
//!   the exact difference of exit and entry values; no residue remains.
//! - **Margin** is `notional / leverage` rounded **up** to [`MARGIN_DP`] (12) decimal places, so
//!   a margin check can only err by refusing a fill that is short by less than 10^-12 per
//!   position (at full precision, a margin like 1/3 would have 28 digits and no exact sum with
//!   cash). It only gates fills and is reported; it never moves cash.
//!
//! [`liquidation_price`] is rounded to 12 decimal places; it is an estimate and moves no money.

use std::collections::BTreeMap;

use charon_events::payload::order::{PositionSide, Side};
use charon_events::{Money, Price, Quantity, Rate, Symbol};
use rust_decimal::{Decimal, RoundingStrategy};

use super::exact::{self, Inexact};
/// How a symbol is traded: the bot configuration's own type, so a pair's `market` setting is
/// passed through unchanged.
pub use crate::config::MarketKind;

/// Decimal places the average entry price is rounded to (banker's rounding).
pub const AVG_ENTRY_DP: u32 = 12;

/// Decimal places a funding payment is rounded to (half away from zero), as Binance books
/// funding fees; without it cash would gather the digits of every qty·mark·rate.
pub const FUNDING_DP: u32 = 8;

/// Decimal places initial margin is rounded up to (so the margin check errs on the safe side).
pub const MARGIN_DP: u32 = 12;

/// Default maintenance margin rate for [`liquidation_price`]: 0.4%, Binance USD-M's lowest tier
/// (BTCUSDT up to 50,000 USDT of notional in Binance's 2021-03-18 table). Brackets change over
/// time and differ per symbol (many smaller contracts start at 1% or more), and larger positions
/// fall in tiers with higher rates, so they are liquidated earlier than this default estimates.
pub const DEFAULT_MAINTENANCE_MARGIN_RATE: Rate = Rate(Decimal::from_parts(4, 0, 0, false, 3));

/// Why the account refused a fill or a funding payment. The account is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("fill quantity must be positive, got {0}")]
    NonPositiveQuantity(Quantity),
    #[error("price must be positive, got {0}")]
    NonPositivePrice(Price),
    #[error("fee must not be negative (maker rebates are not modelled), got {0}")]
    NegativeFee(Money),
    #[error("leverage {leverage} is invalid for {kind:?} (spot is 1, perpetuals at least 1)")]
    InvalidLeverage { kind: MarketKind, leverage: Rate },
    #[error("{symbol} is a {held:?} market in this account, not {given:?}")]
    MarketKindMismatch {
        symbol: Symbol,
        held: MarketKind,
        given: MarketKind,
    },
    #[error("insufficient cash: the buy costs {needed} with its fee, {available} available")]
    InsufficientCash { needed: Money, available: Money },
    #[error("cannot sell {sold} {symbol} with {held} held: spot cannot go short")]
    OversoldSpot {
        symbol: Symbol,
        held: Quantity,
        sold: Quantity,
    },
    #[error("insufficient margin: {required} required, {available} available")]
    InsufficientMargin { required: Money, available: Money },
    #[error(transparent)]
    Inexact(#[from] Inexact),
}

/// A position in one symbol. Flat is `qty == 0` with `side == None`; a flat position stays in
/// the account to keep its totals (`realized`, `fees`, `funding`).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub kind: MarketKind,
    pub side: Option<PositionSide>,
    /// Always ≥ 0; the direction is `side`.
    pub qty: Quantity,
    /// Quantity-weighted mean entry price, rounded to [`AVG_ENTRY_DP`] places; 0 when flat.
    pub avg_entry: Price,
    /// Exact entry value of the open quantity: Σ price·qty of the fills that opened it, less
    /// `avg_entry·qty` per partial reduction. `avg_entry·qty` up to the bounded residue.
    pub entry_value: Money,
    /// 1 for spot.
    pub leverage: Rate,
    /// Realized P&L of this symbol since the account opened.
    pub realized: Money,
    /// Fees paid on this symbol since the account opened.
    pub fees: Money,
    /// Net funding on this symbol since the account opened, positive when received.
    pub funding: Money,
}

impl Position {
    fn flat(kind: MarketKind, leverage: Rate) -> Self {
        Self {
            kind,
            side: None,
            qty: Quantity::ZERO,
            avg_entry: Price::ZERO,
            entry_value: Money::ZERO,
            leverage,
            realized: Money::ZERO,
            fees: Money::ZERO,
            funding: Money::ZERO,
        }
    }

    pub fn is_flat(&self) -> bool {
        self.side.is_none()
    }

    /// +1 long, −1 short, 0 flat.
    fn sign(&self) -> Decimal {
        match self.side {
            Some(PositionSide::Long) => Decimal::ONE,
            Some(PositionSide::Short) => Decimal::NEGATIVE_ONE,
            None => Decimal::ZERO,
        }
    }

    /// Unrealized P&L at `mark`: `(mark·qty − entry_value)` for a long, the negative for a short,
    /// 0 when flat. Measured against the exact entry value, so closing at `mark` realizes exactly
    /// this amount.
    pub fn unrealized(&self, mark: Price) -> Result<Money, AccountError> {
        if self.is_flat() {
            return Ok(Money::ZERO);
        }
        let value = exact::mul(mark.0, self.qty.0)?;
        let pnl = match self.side {
            Some(PositionSide::Short) => exact::sub(self.entry_value.0, value)?,
            _ => exact::sub(value, self.entry_value.0)?,
        };
        Ok(Money(pnl))
    }

    /// What the position adds to equity: spot `qty·mark`, perpetual its unrealized P&L. Without
    /// a mark, spot counts its entry value and a perpetual nothing.
    pub fn equity_value(&self, mark: Option<Price>) -> Result<Money, AccountError> {
        match (self.kind, mark) {
            (MarketKind::Spot, Some(mark)) => Ok(Money(exact::mul(mark.0, self.qty.0)?)),
            (MarketKind::Spot, None) => Ok(self.entry_value),
            (MarketKind::Perpetual, Some(mark)) => self.unrealized(mark),
            (MarketKind::Perpetual, None) => Ok(Money::ZERO),
        }
    }

    /// Initial margin of a perpetual: `qty·mark / leverage` (at entry value without a mark),
    /// rounded up to [`MARGIN_DP`] places; 0 for spot and flat positions.
    pub fn margin(&self, mark: Option<Price>) -> Result<Money, AccountError> {
        if self.kind == MarketKind::Spot || self.is_flat() {
            return Ok(Money::ZERO);
        }
        let notional = match mark {
            Some(mark) => exact::mul(mark.0, self.qty.0)?,
            None => self.entry_value.0,
        };
        margin_of(notional, self.leverage)
    }
}

/// One fill as the account sees it.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    pub symbol: Symbol,
    pub kind: MarketKind,
    pub side: Side,
    /// > 0.
    pub price: Price,
    /// > 0.
    pub qty: Quantity,
    /// ≥ 0, in the quote currency.
    pub fee: Money,
    /// 1 for spot, ≥ 1 for perpetuals.
    pub leverage: Rate,
}

/// What a fill did.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FillEffect {
    /// P&L realized by this fill (before its fee).
    pub realized: Money,
    /// Quantity of the previous position that this fill closed.
    pub closed: Quantity,
    /// Quantity this fill opened or added (the remainder of a flip included).
    pub opened: Quantity,
    /// The position after the fill.
    pub position: Position,
    /// Cash after the fill.
    pub cash: Money,
}

/// An account's equity and unrealized P&L at a set of marks.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Valuation {
    pub equity: Money,
    pub unrealized: Money,
}

/// A bot's account: see the module documentation for its rules.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Account {
    cash: Money,
    positions: BTreeMap<Symbol, Position>,
    fees_paid: Money,
    funding: Money,
    realized: Money,
}

impl Account {
    /// An account holding `cash` and no positions.
    pub fn new(cash: Money) -> Self {
        Self {
            cash,
            positions: BTreeMap::new(),
            fees_paid: Money::ZERO,
            funding: Money::ZERO,
            realized: Money::ZERO,
        }
    }

    pub fn cash(&self) -> Money {
        self.cash
    }

    /// Every symbol traded so far, flat ones included, in symbol order.
    pub fn positions(&self) -> &BTreeMap<Symbol, Position> {
        &self.positions
    }

    pub fn position(&self, symbol: Symbol) -> Option<&Position> {
        self.positions.get(&symbol)
    }

    /// Total fees paid (≥ 0).
    pub fn fees_paid(&self) -> Money {
        self.fees_paid
    }

    /// Net funding, positive when received.
    pub fn funding(&self) -> Money {
        self.funding
    }

    /// Total realized P&L (before fees and funding).
    pub fn realized(&self) -> Money {
        self.realized
    }

    /// Applies one fill. `marks` values the other perpetual positions for the margin check of a
    /// fill that opens, increases or flips a perpetual (the filled symbol is valued at the fill
    /// price). On error the account is unchanged.
    pub fn apply_fill(
        &mut self,
        fill: &Execution,
        marks: impl Fn(Symbol) -> Option<Price>,
    ) -> Result<FillEffect, AccountError> {
        validate(fill)?;
        let before = match self.positions.get(&fill.symbol) {
            Some(position) if position.kind != fill.kind => {
                return Err(AccountError::MarketKindMismatch {
                    symbol: fill.symbol,
                    held: position.kind,
                    given: fill.kind,
                })
            }
            Some(position) => position.clone(),
            None => Position::flat(fill.kind, fill.leverage),
        };
        let change = match fill.kind {
            MarketKind::Spot => self.spot_change(&before, fill)?,
            MarketKind::Perpetual => perpetual_change(&before, fill)?,
        };
        let mut after = change.position;
        after.realized = Money(exact::add(after.realized.0, change.realized.0)?);
        after.fees = Money(exact::add(after.fees.0, fill.fee.0)?);
        let cash = exact::add(self.cash.0, change.cash_delta.0)?;
        let cash = Money(exact::sub(cash, fill.fee.0)?);
        let realized = Money(exact::add(self.realized.0, change.realized.0)?);
        let fees_paid = Money(exact::add(self.fees_paid.0, fill.fee.0)?);

        if fill.kind == MarketKind::Perpetual && !change.opened.0.is_zero() {
            self.check_margin(fill, &after, cash, &marks)?;
        }

        self.cash = cash;
        self.realized = realized;
        self.fees_paid = fees_paid;
        self.positions.insert(fill.symbol, after.clone());
        Ok(FillEffect {
            realized: change.realized,
            closed: change.closed,
            opened: change.opened,
            position: after,
            cash,
        })
    }

    /// A spot fill: buys pay `price·qty` from cash, sells receive it.
    fn spot_change(&self, before: &Position, fill: &Execution) -> Result<Change, AccountError> {
        let value = exact::mul(fill.price.0, fill.qty.0)?;
        match fill.side {
            Side::Buy => {
                let needed = Money(exact::add(value, fill.fee.0)?);
                if needed > self.cash {
                    return Err(AccountError::InsufficientCash {
                        needed,
                        available: self.cash,
                    });
                }
                let position = increase(before, PositionSide::Long, fill, value)?;
                Ok(Change {
                    position,
                    realized: Money::ZERO,
                    cash_delta: Money(-value),
                    closed: Quantity::ZERO,
                    opened: fill.qty,
                })
            }
            Side::Sell => {
                if fill.qty > before.qty {
                    return Err(AccountError::OversoldSpot {
                        symbol: fill.symbol,
                        held: before.qty,
                        sold: fill.qty,
                    });
                }
                let (position, realized) = reduce(before, fill.price, fill.qty)?;
                Ok(Change {
                    position,
                    realized,
                    cash_delta: Money(value),
                    closed: fill.qty,
                    opened: Quantity::ZERO,
                })
            }
        }
    }

    /// Refuses a perpetual fill whose resulting position's initial margin exceeds the available
    /// margin (cross margin; see the module documentation).
    fn check_margin(
        &self,
        fill: &Execution,
        after: &Position,
        cash_after: Money,
        marks: &impl Fn(Symbol) -> Option<Price>,
    ) -> Result<(), AccountError> {
        let mut collateral = exact::add(cash_after.0, after.unrealized(fill.price)?.0)?;
        let mut other_margin = Decimal::ZERO;
        for (symbol, position) in &self.positions {
            if *symbol == fill.symbol || position.kind != MarketKind::Perpetual {
                continue;
            }
            let mark = marks(*symbol);
            collateral = exact::add(collateral, position.equity_value(mark)?.0)?;
            other_margin = exact::add(other_margin, position.margin(mark)?.0)?;
        }
        let available = Money(exact::sub(collateral, other_margin)?);
        let required = after.margin(Some(fill.price))?;
        if required > available {
            return Err(AccountError::InsufficientMargin {
                required,
                available,
            });
        }
        Ok(())
    }

    /// Pays or receives funding on `symbol`'s perpetual position: `qty·mark·rate`, paid by a long
    /// and received by a short when `rate > 0`, the reverse when negative. Returns the signed
    /// amount (positive when received), recorded in cash, the position and the account's
    /// funding total. Spot, flat and unknown symbols pay nothing (0).
    pub fn apply_funding(
        &mut self,
        symbol: Symbol,
        rate: Rate,
        mark: Price,
    ) -> Result<Money, AccountError> {
        if mark.0 <= Decimal::ZERO {
            return Err(AccountError::NonPositivePrice(mark));
        }
        let Some(position) = self.positions.get(&symbol) else {
            return Ok(Money::ZERO);
        };
        if position.kind != MarketKind::Perpetual || position.is_flat() {
            return Ok(Money::ZERO);
        }
        let payment = exact::mul(exact::mul(position.qty.0, mark.0)?, rate.0)?;
        let amount = exact::mul(payment, -position.sign())?;
        let amount = Money(
            amount.round_dp_with_strategy(FUNDING_DP, RoundingStrategy::MidpointAwayFromZero),
        );
        let position_funding = Money(exact::add(position.funding.0, amount.0)?);
        let cash = Money(exact::add(self.cash.0, amount.0)?);
        let funding = Money(exact::add(self.funding.0, amount.0)?);

        self.cash = cash;
        self.funding = funding;
        if let Some(position) = self.positions.get_mut(&symbol) {
            position.funding = position_funding;
        }
        Ok(amount)
    }

    /// Cash plus every position's [`Position::equity_value`]: spot holdings at `qty·mark`,
    /// perpetuals at their unrealized P&L.
    pub fn equity(&self, marks: impl Fn(Symbol) -> Option<Price>) -> Result<Money, AccountError> {
        let mut equity = self.cash.0;
        for (symbol, position) in &self.positions {
            equity = exact::add(equity, position.equity_value(marks(*symbol))?.0)?;
        }
        Ok(Money(equity))
    }

    /// [`Account::equity`] and [`Account::unrealized`] in one pass over the open positions
    /// (flat ones add nothing to either): what an equity report needs, at half the cost.
    pub fn valuation(
        &self,
        marks: impl Fn(Symbol) -> Option<Price>,
    ) -> Result<Valuation, AccountError> {
        let mut equity = self.cash.0;
        let mut unrealized = Decimal::ZERO;
        for (symbol, position) in &self.positions {
            if position.is_flat() {
                continue;
            }
            let mark = marks(*symbol);
            match (position.kind, mark) {
                // A perpetual adds its unrealized P&L to equity: computed once for both.
                (MarketKind::Perpetual, Some(mark)) => {
                    let pnl = position.unrealized(mark)?.0;
                    equity = exact::add(equity, pnl)?;
                    unrealized = exact::add(unrealized, pnl)?;
                }
                (_, mark) => {
                    equity = exact::add(equity, position.equity_value(mark)?.0)?;
                    if let Some(mark) = mark {
                        unrealized = exact::add(unrealized, position.unrealized(mark)?.0)?;
                    }
                }
            }
        }
        Ok(Valuation {
            equity: Money(equity),
            unrealized: Money(unrealized),
        })
    }

    /// Unrealized P&L of every position with a mark (spot included: `qty·mark − entry value`).
    pub fn unrealized(
        &self,
        marks: impl Fn(Symbol) -> Option<Price>,
    ) -> Result<Money, AccountError> {
        let mut total = Decimal::ZERO;
        for (symbol, position) in &self.positions {
            if let Some(mark) = marks(*symbol) {
                total = exact::add(total, position.unrealized(mark)?.0)?;
            }
        }
        Ok(Money(total))
    }

    /// Initial margin of every perpetual position: Σ `qty·mark / leverage`.
    pub fn margin_used(
        &self,
        marks: impl Fn(Symbol) -> Option<Price>,
    ) -> Result<Money, AccountError> {
        let mut total = Decimal::ZERO;
        for (symbol, position) in &self.positions {
            total = exact::add(total, position.margin(marks(*symbol))?.0)?;
        }
        Ok(Money(total))
    }
}

/// The estimated liquidation price of a perpetual position under isolated margin, or `None` for
/// spot, flat positions, leverage below 1 and estimates at or below zero (a 1x long with a zero
/// maintenance rate is never liquidated).
///
/// long: `entry·(1 − 1/leverage + mmr)`, short: `entry·(1 + 1/leverage − mmr)`, rounded to 12
/// places; `mmr` is the maintenance margin rate ([`DEFAULT_MAINTENANCE_MARGIN_RATE`] is 0.4%).
///
/// **An approximation.** It assumes the position's margin is exactly its initial margin
/// `entry·qty/leverage` and is liquidated when its loss leaves `mmr·entry·qty` of it. A real
/// exchange differs in ways the simulator does not model: cross margin lets the whole balance
/// (and other positions' P&L) hold a position up; fees and funding paid change the margin;
/// Binance measures the maintenance margin at the mark price, not the entry price, which gives
/// `entry·(1 − 1/leverage)/(1 − mmr)` for a long and `entry·(1 + 1/leverage)/(1 + mmr)` for a
/// short; and larger positions fall in tiers with higher rates and a maintenance amount. The
/// first-order form here differs from Binance's isolated formula by about `entry·mmr/leverage`
/// (0.04% of entry at 10x): slightly early for a long, slightly late for a short.
pub fn liquidation_price(position: &Position, maintenance_margin_rate: Rate) -> Option<Price> {
    if position.kind != MarketKind::Perpetual || position.leverage.0 < Decimal::ONE {
        return None;
    }
    let inverse = Decimal::ONE.checked_div(position.leverage.0)?;
    let mmr = maintenance_margin_rate.0;
    let factor = match position.side? {
        PositionSide::Long => Decimal::ONE.checked_sub(inverse)?.checked_add(mmr)?,
        PositionSide::Short => Decimal::ONE.checked_add(inverse)?.checked_sub(mmr)?,
    };
    let price = position
        .avg_entry
        .0
        .checked_mul(factor)?
        .round_dp_with_strategy(AVG_ENTRY_DP, RoundingStrategy::MidpointNearestEven)
        .normalize();
    (price > Decimal::ZERO).then_some(Price(price))
}

/// A fill's effect on one position, before fees.
#[derive(serde::Serialize, serde::Deserialize)]
struct Change {
    /// The position after the fill, totals (realized, fees) not yet updated.
    position: Position,
    realized: Money,
    /// Cash moved by the fill itself, fees excluded.
    cash_delta: Money,
    closed: Quantity,
    opened: Quantity,
}

/// `notional / leverage`, rounded up to [`MARGIN_DP`] places.
fn margin_of(notional: Decimal, leverage: Rate) -> Result<Money, AccountError> {
    let margin = notional.checked_div(leverage.0).ok_or(Inexact {
        a: notional,
        op: '/',
        b: leverage.0,
    })?;
    let margin = margin.round_dp_with_strategy(MARGIN_DP, RoundingStrategy::AwayFromZero);
    Ok(Money(margin.normalize()))
}

fn validate(fill: &Execution) -> Result<(), AccountError> {
    if fill.qty.0 <= Decimal::ZERO {
        return Err(AccountError::NonPositiveQuantity(fill.qty));
    }
    if fill.price.0 <= Decimal::ZERO {
        return Err(AccountError::NonPositivePrice(fill.price));
    }
    if fill.fee.0 < Decimal::ZERO {
        return Err(AccountError::NegativeFee(fill.fee));
    }
    let leverage_ok = match fill.kind {
        MarketKind::Spot => fill.leverage.0 == Decimal::ONE,
        MarketKind::Perpetual => fill.leverage.0 >= Decimal::ONE,
    };
    if !leverage_ok {
        return Err(AccountError::InvalidLeverage {
            kind: fill.kind,
            leverage: fill.leverage,
        });
    }
    Ok(())
}

/// A perpetual fill: increase in the position's direction, otherwise reduce, close or flip.
/// Realized P&L is the only cash it moves (fees aside).
fn perpetual_change(before: &Position, fill: &Execution) -> Result<Change, AccountError> {
    let direction = match fill.side {
        Side::Buy => PositionSide::Long,
        Side::Sell => PositionSide::Short,
    };
    if before.side.is_none() || before.side == Some(direction) {
        let value = exact::mul(fill.price.0, fill.qty.0)?;
        return Ok(Change {
            position: increase(before, direction, fill, value)?,
            realized: Money::ZERO,
            cash_delta: Money::ZERO,
            closed: Quantity::ZERO,
            opened: fill.qty,
        });
    }
    let closed = fill.qty.min(before.qty);
    let (reduced, realized) = reduce(before, fill.price, closed)?;
    let remainder = Quantity(exact::sub(fill.qty.0, closed.0)?);
    let position = if remainder.0.is_zero() {
        reduced
    } else {
        let value = exact::mul(fill.price.0, remainder.0)?;
        let rest = Execution {
            qty: remainder,
            ..*fill
        };
        increase(&reduced, direction, &rest, value)?
    };
    Ok(Change {
        position,
        realized,
        cash_delta: realized,
        closed,
        opened: remainder,
    })
}

/// Adds `fill.qty` at `fill.price` (entry value `value`) to a flat position or one already on
/// `side`. From flat the average entry is the fill price itself; otherwise the weighted mean,
/// rounded. The fill's leverage becomes the position's.
fn increase(
    before: &Position,
    side: PositionSide,
    fill: &Execution,
    value: Decimal,
) -> Result<Position, AccountError> {
    let qty = exact::add(before.qty.0, fill.qty.0)?;
    let entry_value = exact::add(before.entry_value.0, value)?;
    let avg_entry = if before.is_flat() {
        fill.price.0
    } else {
        entry_value
            .checked_div(qty)
            .ok_or(Inexact {
                a: entry_value,
                op: '/',
                b: qty,
            })?
            .round_dp_with_strategy(AVG_ENTRY_DP, RoundingStrategy::MidpointNearestEven)
            .normalize()
    };
    Ok(Position {
        side: Some(side),
        qty: Quantity(qty),
        avg_entry: Price(avg_entry),
        entry_value: Money(entry_value),
        leverage: fill.leverage,
        ..before.clone()
    })
}

/// Takes `qty` (≤ the position's) off a position at `price`, returning the rest and the P&L
/// realized. A partial reduction realizes `(price − avg_entry)·qty` (negated for a short) and
/// keeps the average entry; closing all of it realizes `price·qty − entry_value` (negated for a
/// short), which settles the rounding residue of the average.
fn reduce(
    before: &Position,
    price: Price,
    qty: Quantity,
) -> Result<(Position, Money), AccountError> {
    let sign = before.sign();
    if qty == before.qty {
        let exit_value = exact::mul(price.0, qty.0)?;
        let pnl = exact::mul(exact::sub(exit_value, before.entry_value.0)?, sign)?;
        let flat = Position {
            side: None,
            qty: Quantity::ZERO,
            avg_entry: Price::ZERO,
            entry_value: Money::ZERO,
            ..before.clone()
        };
        return Ok((flat, Money(pnl)));
    }
    let per_unit = exact::mul(exact::sub(price.0, before.avg_entry.0)?, sign)?;
    let pnl = exact::mul(per_unit, qty.0)?;
    let entry_value = exact::sub(before.entry_value.0, exact::mul(before.avg_entry.0, qty.0)?)?;
    let rest = Position {
        qty: Quantity(exact::sub(before.qty.0, qty.0)?),
        entry_value: Money(entry_value),
        ..before.clone()
    };
    Ok((rest, Money(pnl)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }
    fn money(text: &str) -> Money {
        Money(d(text))
    }
    fn sym(name: &str) -> Symbol {
        Symbol::new(name).unwrap()
    }
    fn no_marks(_: Symbol) -> Option<Price> {
        None
    }

    fn fill(
        symbol: &str,
        kind: MarketKind,
        side: Side,
        price: &str,
        qty: &str,
        fee: &str,
        leverage: &str,
    ) -> Execution {
        Execution {
            symbol: sym(symbol),
            kind,
            side,
            price: Price(d(price)),
            qty: Quantity(d(qty)),
            fee: money(fee),
            leverage: Rate(d(leverage)),
        }
    }
    fn spot(side: Side, price: &str, qty: &str, fee: &str) -> Execution {
        fill("BTCUSDT", MarketKind::Spot, side, price, qty, fee, "1")
    }
    fn perp(side: Side, price: &str, qty: &str, fee: &str, leverage: &str) -> Execution {
        fill(
            "ETHUSDT",
            MarketKind::Perpetual,
            side,
            price,
            qty,
            fee,
            leverage,
        )
    }

    #[test]
    fn spot_round_trip_with_fees() {
        let mut account = Account::new(money("10000"));
        let e = account
            .apply_fill(&spot(Side::Buy, "20000", "0.4", "4"), no_marks)
            .unwrap();
        assert_eq!(e.cash, money("1996"));
        assert_eq!(e.position.avg_entry, Price(d("20000")));
        // 0.1 more would cost 2101.05 with its fee.
        let err = account
            .apply_fill(&spot(Side::Buy, "21000", "0.1", "1.05"), no_marks)
            .unwrap_err();
        assert_eq!(
            err,
            AccountError::InsufficientCash {
                needed: money("2101.05"),
                available: money("1996")
            }
        );
        let e = account
            .apply_fill(&spot(Side::Buy, "21000", "0.05", "0.525"), no_marks)
            .unwrap();
        assert_eq!(e.cash, money("945.475"));
        assert_eq!(e.position.qty, Quantity(d("0.45")));
        // 9050 / 0.45 = 20111.111…, rounded to 12 places.
        assert_eq!(e.position.avg_entry, Price(d("20111.111111111111")));
        assert_eq!(e.position.entry_value, money("9050"));

        // Equity: cash + qty·mark.
        let mark = |_| Some(Price(d("20000")));
        assert_eq!(account.equity(mark).unwrap(), money("9945.475"));
        assert_eq!(account.unrealized(mark).unwrap(), money("-50"));
        assert_eq!(account.margin_used(mark).unwrap(), Money::ZERO);

        let e = account
            .apply_fill(&spot(Side::Sell, "22000", "0.2", "2.2"), no_marks)
            .unwrap();
        assert_eq!(e.realized, money("377.7777777777778"));
        assert_eq!(e.closed, Quantity(d("0.2")));
        assert_eq!(e.cash, money("5343.275"));
        assert_eq!(e.position.avg_entry, Price(d("20111.111111111111")));
        assert_eq!(e.position.entry_value, money("5027.7777777777778"));

        // Closing realizes exit value − entry value: the rounding residue is settled here.
        let e = account
            .apply_fill(&spot(Side::Sell, "19000", "0.25", "2.375"), no_marks)
            .unwrap();
        assert_eq!(e.realized, money("-277.7777777777778"));
        assert_eq!(e.position.qty, Quantity::ZERO);
        assert_eq!(e.position.side, None);
        assert_eq!(e.position.entry_value, Money::ZERO);
        assert_eq!(account.realized(), money("100"), "9150 sold − 9050 bought");
        assert_eq!(account.fees_paid(), money("9.1"));
        assert_eq!(account.cash(), money("10090.9"));
        assert_eq!(account.equity(mark).unwrap(), account.cash());
        let position = account.position(sym("BTCUSDT")).unwrap();
        assert_eq!(
            (position.realized, position.fees),
            (money("100"), money("9.1"))
        );
    }

    #[test]
    fn overselling_spot_is_refused() {
        let mut account = Account::new(money("1000"));
        let err = account
            .apply_fill(&spot(Side::Sell, "100", "1", "0"), no_marks)
            .unwrap_err();
        assert!(matches!(err, AccountError::OversoldSpot { held, .. } if held == Quantity::ZERO));
        account
            .apply_fill(&spot(Side::Buy, "100", "1", "0"), no_marks)
            .unwrap();
        let before = account.clone();
        let err = account
            .apply_fill(&spot(Side::Sell, "100", "1.5", "0"), no_marks)
            .unwrap_err();
        assert_eq!(
            err,
            AccountError::OversoldSpot {
                symbol: sym("BTCUSDT"),
                held: Quantity(d("1")),
                sold: Quantity(d("1.5"))
            }
        );
        assert_eq!(account, before, "a refused fill changes nothing");
    }

    #[test]
    fn invalid_fills_are_refused() {
        let mut account = Account::new(money("1000"));
        let before = account.clone();
        let cases = [
            (spot(Side::Buy, "100", "1", "-0.01"), "negative fee"),
            (spot(Side::Buy, "100", "0", "0"), "zero quantity"),
            (spot(Side::Buy, "0", "1", "0"), "zero price"),
            (perp(Side::Buy, "100", "-1", "0", "2"), "negative quantity"),
            (
                fill("BTCUSDT", MarketKind::Spot, Side::Buy, "100", "1", "0", "2"),
                "spot leverage",
            ),
            (perp(Side::Buy, "100", "1", "0", "0.5"), "leverage below 1"),
        ];
        for (execution, why) in cases {
            assert!(account.apply_fill(&execution, no_marks).is_err(), "{why}");
        }
        assert_eq!(
            account.apply_fill(&spot(Side::Buy, "100", "1", "-0.01"), no_marks),
            Err(AccountError::NegativeFee(money("-0.01")))
        );
        assert_eq!(account, before);
        account
            .apply_fill(&spot(Side::Buy, "100", "1", "0"), no_marks)
            .unwrap();
        let as_perp = fill(
            "BTCUSDT",
            MarketKind::Perpetual,
            Side::Buy,
            "100",
            "1",
            "0",
            "2",
        );
        assert!(matches!(
            account.apply_fill(&as_perp, no_marks),
            Err(AccountError::MarketKindMismatch {
                held: MarketKind::Spot,
                ..
            })
        ));
    }

    #[test]
    fn perpetual_long_with_partial_close() {
        let mut account = Account::new(money("1000"));
        let e = account
            .apply_fill(&perp(Side::Buy, "100", "1", "0.05", "10"), no_marks)
            .unwrap();
        assert_eq!(e.cash, money("999.95"), "opening moves only the fee");
        let e = account
            .apply_fill(&perp(Side::Buy, "110", "1", "0.055", "10"), no_marks)
            .unwrap();
        assert_eq!(e.position.avg_entry, Price(d("105")));
        assert_eq!(e.position.side, Some(PositionSide::Long));
        assert_eq!(e.cash, money("999.895"));
        let mark = |_| Some(Price(d("100")));
        assert_eq!(account.unrealized(mark).unwrap(), money("-10"));
        assert_eq!(account.equity(mark).unwrap(), money("989.895"));
        assert_eq!(account.margin_used(mark).unwrap(), money("20"));

        let e = account
            .apply_fill(&perp(Side::Sell, "120", "0.5", "0.03", "10"), no_marks)
            .unwrap();
        assert_eq!(e.realized, money("7.5"));
        assert_eq!(e.cash, money("1007.365"));
        assert_eq!(e.position.qty, Quantity(d("1.5")));
        assert_eq!(
            e.position.avg_entry,
            Price(d("105")),
            "a reduction keeps the entry"
        );
        assert_eq!(account.equity(mark).unwrap(), money("999.865"));

        let e = account
            .apply_fill(&perp(Side::Sell, "90", "1.5", "0.0675", "10"), no_marks)
            .unwrap();
        assert_eq!(e.realized, money("-22.5"));
        assert_eq!(e.position.side, None);
        assert_eq!(e.cash, money("984.7975"));
        assert_eq!(account.realized(), money("-15"));
        assert_eq!(account.fees_paid(), money("0.2025"));
        assert_eq!(account.equity(mark).unwrap(), account.cash());
    }

    #[test]
    fn perpetual_short_with_partial_close_and_flip() {
        let mut account = Account::new(money("1000"));
        let e = account
            .apply_fill(&perp(Side::Sell, "50", "2", "0", "5"), no_marks)
            .unwrap();
        assert_eq!(e.position.side, Some(PositionSide::Short));
        assert_eq!(e.cash, money("1000"));
        assert_eq!(
            account.unrealized(|_| Some(Price(d("55")))).unwrap(),
            money("-10"),
            "a short loses when the price rises"
        );
        let e = account
            .apply_fill(&perp(Side::Buy, "40", "0.5", "0", "5"), no_marks)
            .unwrap();
        assert_eq!(e.realized, money("5"));
        assert_eq!(e.position.qty, Quantity(d("1.5")));
        assert_eq!(e.cash, money("1005"));

        // Buying 3 closes the 1.5 short at 45 and opens a 1.5 long at 45.
        let e = account
            .apply_fill(&perp(Side::Buy, "45", "3", "0", "4"), no_marks)
            .unwrap();
        assert_eq!(e.realized, money("7.5"));
        assert_eq!(e.closed, Quantity(d("1.5")));
        assert_eq!(e.opened, Quantity(d("1.5")));
        assert_eq!(e.position.side, Some(PositionSide::Long));
        assert_eq!(e.position.qty, Quantity(d("1.5")));
        assert_eq!(e.position.avg_entry, Price(d("45")));
        assert_eq!(
            e.position.leverage,
            Rate(d("4")),
            "the flip opens at the fill's leverage"
        );
        assert_eq!(e.cash, money("1012.5"));
        assert_eq!(e.position.realized, money("12.5"));
    }

    #[test]
    fn funding_both_signs() {
        let mut account = Account::new(money("1000"));
        account
            .apply_fill(&perp(Side::Buy, "100", "2", "0", "10"), no_marks)
            .unwrap();
        let eth = sym("ETHUSDT");
        // Positive rate: the long pays 2·105·0.0001.
        let paid = account
            .apply_funding(eth, Rate(d("0.0001")), Price(d("105")))
            .unwrap();
        assert_eq!(paid, money("-0.021"));
        // Negative rate: the long receives 2·100·0.0002.
        let got = account
            .apply_funding(eth, Rate(d("-0.0002")), Price(d("100")))
            .unwrap();
        assert_eq!(got, money("0.04"));
        assert_eq!(account.cash(), money("1000.019"));
        assert_eq!(account.funding(), money("0.019"));
        assert_eq!(account.position(eth).unwrap().funding, money("0.019"));

        // Flip to a 2 short: now a positive rate is received, a negative one paid.
        account
            .apply_fill(&perp(Side::Sell, "100", "4", "0", "10"), no_marks)
            .unwrap();
        let got = account
            .apply_funding(eth, Rate(d("0.0001")), Price(d("105")))
            .unwrap();
        assert_eq!(got, money("0.021"));
        let paid = account
            .apply_funding(eth, Rate(d("-0.0002")), Price(d("100")))
            .unwrap();
        assert_eq!(paid, money("-0.04"));
        assert_eq!(account.funding(), money("0"));
        assert_eq!(account.cash(), money("1000"));

        // Spot, flat and unknown symbols pay nothing.
        account
            .apply_fill(&spot(Side::Buy, "100", "1", "0"), no_marks)
            .unwrap();
        let before = account.clone();
        let rate = Rate(d("0.01"));
        let mark = Price(d("100"));
        assert_eq!(
            account.apply_funding(sym("BTCUSDT"), rate, mark),
            Ok(Money::ZERO)
        );
        assert_eq!(
            account.apply_funding(sym("XRPUSDT"), rate, mark),
            Ok(Money::ZERO)
        );
        account
            .apply_fill(&perp(Side::Buy, "100", "2", "0", "10"), no_marks)
            .unwrap();
        let flat = account.clone();
        assert_eq!(account.apply_funding(eth, rate, mark), Ok(Money::ZERO));
        assert_eq!(account, flat);
        assert_ne!(before, flat);
    }

    #[test]
    fn margin_is_checked_when_exposure_grows() {
        let mut account = Account::new(money("100"));
        let before = account.clone();
        // 1·1000/5 = 200 of margin against 100.
        assert_eq!(
            account.apply_fill(&perp(Side::Buy, "1000", "1", "0", "5"), no_marks),
            Err(AccountError::InsufficientMargin {
                required: money("200"),
                available: money("100")
            })
        );
        // At 10x it needs exactly 100, but the fee leaves 99.5.
        assert_eq!(
            account.apply_fill(&perp(Side::Buy, "1000", "1", "0.5", "10"), no_marks),
            Err(AccountError::InsufficientMargin {
                required: money("100"),
                available: money("99.5")
            })
        );
        assert_eq!(account, before);
        // Half of it fits; another symbol then has the other 50 available.
        account
            .apply_fill(&perp(Side::Buy, "1000", "0.5", "0", "10"), no_marks)
            .unwrap();
        let other = fill(
            "SOLUSDT",
            MarketKind::Perpetual,
            Side::Sell,
            "100",
            "6",
            "0",
            "10",
        );
        let err = account
            .apply_fill(&other, |_| Some(Price(d("1000"))))
            .unwrap_err();
        assert_eq!(
            err,
            AccountError::InsufficientMargin {
                required: money("60"),
                available: money("50")
            }
        );
        // With ETH marked at 1040 (+20 unrealized, margin 52): 120 − 52 = 68 available.
        let e = account
            .apply_fill(&other, |_| Some(Price(d("1040"))))
            .unwrap();
        assert_eq!(e.position.side, Some(PositionSide::Short));
        // Reducing never needs margin, even when equity is gone.
        let crash = |_| Some(Price(d("700")));
        assert!(account.equity(crash).unwrap() < Money::ZERO);
        let e = account
            .apply_fill(&perp(Side::Sell, "700", "0.2", "0", "10"), crash)
            .unwrap();
        assert_eq!(e.realized, money("-60"));
        // Increasing now is refused.
        assert!(matches!(
            account.apply_fill(&perp(Side::Buy, "700", "0.01", "0", "10"), crash),
            Err(AccountError::InsufficientMargin { .. })
        ));
    }

    #[test]
    fn spot_holdings_are_not_margin() {
        let mut account = Account::new(money("1000"));
        account
            .apply_fill(&spot(Side::Buy, "100", "9", "0"), no_marks)
            .unwrap();
        // 100 of cash is left and the 9 BTC held do not count: 101 of notional at 1x is refused.
        let big = perp(Side::Buy, "101", "1", "0", "1");
        assert!(matches!(
            account.apply_fill(&big, no_marks),
            Err(AccountError::InsufficientMargin { .. })
        ));
        account
            .apply_fill(&perp(Side::Buy, "100", "1", "0", "1"), no_marks)
            .unwrap();
    }

    #[test]
    fn liquidation_prices_at_10x() {
        let mut account = Account::new(money("1000"));
        let long = account
            .apply_fill(&perp(Side::Buy, "100", "1", "0", "10"), no_marks)
            .unwrap()
            .position;
        let mmr = DEFAULT_MAINTENANCE_MARGIN_RATE;
        assert_eq!(mmr, Rate(d("0.004")));
        assert_eq!(liquidation_price(&long, mmr), Some(Price(d("90.4"))));
        let short = account
            .apply_fill(&perp(Side::Sell, "100", "2", "0", "10"), no_marks)
            .unwrap()
            .position;
        assert_eq!(short.side, Some(PositionSide::Short));
        assert_eq!(liquidation_price(&short, mmr), Some(Price(d("109.6"))));
        let at_20x = Position {
            leverage: Rate(d("20")),
            avg_entry: Price(d("60000")),
            ..long.clone()
        };
        assert_eq!(liquidation_price(&at_20x, mmr), Some(Price(d("57240"))));
        // 3x: 1/3 is rounded by the division, the result to 12 places.
        let at_3x = Position {
            leverage: Rate(d("3")),
            ..long.clone()
        };
        assert_eq!(
            liquidation_price(&at_3x, mmr),
            Some(Price(d("67.066666666667")))
        );
        let unlevered = Position {
            leverage: Rate(d("1")),
            ..long.clone()
        };
        assert_eq!(liquidation_price(&unlevered, Rate::ZERO), None);

        let closed = account
            .apply_fill(&perp(Side::Buy, "100", "1", "0", "10"), no_marks)
            .unwrap()
            .position;
        assert_eq!(liquidation_price(&closed, mmr), None);
        let held = account
            .apply_fill(&spot(Side::Buy, "100", "1", "0"), no_marks)
            .unwrap()
            .position;
        assert_eq!(liquidation_price(&held, mmr), None);
    }

    #[test]
    fn averaging_residue_is_bounded_and_settled_on_close() {
        let mut account = Account::new(money("1000"));
        account
            .apply_fill(&perp(Side::Buy, "1", "1", "0", "10"), no_marks)
            .unwrap();
        let e = account
            .apply_fill(&perp(Side::Buy, "2", "2", "0", "10"), no_marks)
            .unwrap();
        // 5/3 rounds to 1.666666666667; the residue is −1e-12.
        assert_eq!(e.position.avg_entry, Price(d("1.666666666667")));
        assert_eq!(e.position.entry_value, money("5"));
        let e = account
            .apply_fill(&perp(Side::Sell, "2", "1", "0", "10"), no_marks)
            .unwrap();
        assert_eq!(e.realized, money("0.333333333333"));
        assert_eq!(e.position.entry_value, money("3.333333333333"));
        let e = account
            .apply_fill(&perp(Side::Sell, "2", "2", "0", "10"), no_marks)
            .unwrap();
        assert_eq!(e.realized, money("0.666666666667"));
        assert_eq!(account.realized(), money("1"), "6 out − 5 in, exactly");
        assert_eq!(account.cash(), money("1001"));
    }

    #[test]
    fn amounts_decimal_cannot_hold_are_refused() {
        let mut account = Account::new(money("1000"));
        let tiny = spot(Side::Buy, "0.000000000000001", "0.000000000000001", "0");
        assert!(matches!(
            account.apply_fill(&tiny, no_marks),
            Err(AccountError::Inexact(_))
        ));
        let mut rich = Account::new(Money(Decimal::MAX));
        let huge = perp(Side::Buy, "79228162514264337593543950335", "2", "0", "125");
        assert!(matches!(
            rich.apply_fill(&huge, no_marks),
            Err(AccountError::Inexact(_))
        ));
        assert_eq!(account, Account::new(money("1000")));
    }
}
