//! The simulated Exchange actor of paper and backtest runs: it holds every bot's [`Account`]
//! as a venue holds balances, fills approved orders with the [`FillModel`], and reports
//! fills, positions, funding and equity as derived events.
//!
//! - **Orders** are known from their `OrderIntent` and acted on at their `OrderApproved`
//!   (a vetoed intent is forgotten). The simulator goes from approval straight to the fill
//!   (no submitted/accepted events: nothing leaves the process).
//! - **Market orders** wait for the next market *input* of their symbol and fill there: at
//!   a bar's open, at a trade's price, or at a quote's ask (buys) or bid (sells); derived bars
//!   never fill (their open is in the past). With same-bar-close timing they fill at once at
//!   the latest input's close (a trade's price). Slippage and the taker fee apply.
//! - **Stop-market and take-profit-market** orders fill at once against the latest market
//!   input of their symbol (the bar or trade on which the Pair saw the level reached), at the
//!   price the model's [`Intrabar`](super::Intrabar) conventions give the level alone (by
//!   default a gap through the stop fills at the open), then slippage and the taker fee. If the level is not within that input, the order waits as a market order.
//! - **Reduce-only** orders are cut to the position; one that would open a position (the
//!   position is already flat) is rejected. An order the account refuses (cash, margin) is
//!   rejected with the account's reason; the account is unchanged.
//! - **Marks** are the latest trade price, input bar close or mark price of each symbol (a
//!   bar a pair built from trades closed before the trade that completed it).
//!   `PositionUpdated` and `EquityUpdated` are derived after every fill and funding payment,
//!   and at each bar of a symbol (input or derived) for the bots holding it: the equity curve
//!   of a run is sampled at bar closes while a position is open.
//! - **Funding** rates are paid on perpetual positions open at their funding time, at the
//!   symbol's latest mark.
//! - **Liquidation** is not simulated: positions carry an estimated liquidation price
//!   ([`liquidation_price`]) for risk rules to act on.

use std::cell::Cell;
use std::collections::BTreeMap;

use charon_events::payload::market::{Bar, BookTicker, FundingRate, Interval};
use charon_events::payload::order::{
    EquityUpdated, Fill, FundingPaid, Liquidity, OrderFilled, OrderIntent, OrderRejected,
    OrderType, PositionUpdated, Side,
};
use charon_events::{
    ActorId, BotId, ClientOrderId, Envelope, Event, EventKind, Money, Origin, Price, Quantity,
    Rate, Symbol, Venue,
};
use rust_decimal::Decimal;

use super::{
    liquidation_price, Account, Execution, ExitLevels, FillModel, FillTiming, MarketKind,
    DEFAULT_MAINTENANCE_MARGIN_RATE,
};
use crate::config::Config;
use crate::journal::{Actor, Derived};

/// An approved order waiting for its fill.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct Working {
    bot: BotId,
    intent: OrderIntent,
    qty: Quantity,
}

/// One traded symbol: who trades it, how, and its latest prices.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct Market {
    bot: BotId,
    kind: MarketKind,
    mark: Option<Price>,
    /// The latest market input as a bar (a trade is a bar of one price).
    reference: Option<Bar>,
    /// Approved market orders waiting for the next input, in approval order.
    queue: Vec<Working>,
    /// The last liquidation estimate and the (entry, leverage, side) it was made for.
    liquidation: Cell<Option<(LiquidationKey, Option<Price>)>>,
}

/// Entry and leverage as their exact representations (a cache key compared byte for byte,
/// cheaper than comparing decimals), and the side.
type LiquidationKey = (
    [u8; 16],
    [u8; 16],
    Option<charon_events::payload::order::PositionSide>,
);

/// A bot's account and the figures its equity reports carry.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct Book {
    account: Account,
    peak_equity: Money,
}

/// The simulated Exchange actor (see the module documentation).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct SimulatedExchange {
    venue: Venue,
    model: FillModel,
    markets: BTreeMap<Symbol, Market>,
    books: BTreeMap<BotId, Book>,
    /// Intents seen and not yet approved or vetoed.
    pending: BTreeMap<ClientOrderId, (BotId, OrderIntent)>,
}

impl SimulatedExchange {
    /// An exchange holding an account for every bot of `config`, funded with its initial
    /// capital.
    pub fn new(venue: Venue, model: FillModel, config: &Config) -> Self {
        let mut markets = BTreeMap::new();
        let mut books = BTreeMap::new();
        for bot in &config.bot {
            books.insert(
                bot.name,
                Book {
                    account: Account::new(bot.initial_capital),
                    peak_equity: bot.initial_capital,
                },
            );
            for pair in &bot.pair {
                let market = Market {
                    bot: bot.name,
                    kind: pair.market,
                    mark: None,
                    reference: None,
                    queue: Vec::new(),
                    liquidation: Cell::new(None),
                };
                markets.insert(pair.symbol, market);
            }
        }
        Self {
            venue,
            model,
            markets,
            books,
            pending: BTreeMap::new(),
        }
    }

    /// A bot's account, for reports and tests.
    pub fn account(&self, bot: BotId) -> Option<&Account> {
        self.books.get(&bot).map(|book| &book.account)
    }

    fn on_approved(&mut self, order_id: ClientOrderId, qty: Quantity, out: &mut Derived<'_>) {
        let Some((bot, intent)) = self.pending.remove(&order_id) else {
            return;
        };
        let symbol = order_id.pair;
        let working = Working { bot, intent, qty };
        let Some(market) = self.markets.get(&symbol) else {
            return;
        };
        let reference = market.reference;
        let level = match working.intent.order_type {
            OrderType::Market => None,
            OrderType::StopMarket { trigger } => Some(ExitLevels::stop(trigger)),
            OrderType::TakeProfitMarket { trigger } => Some(ExitLevels::target(trigger)),
            OrderType::Limit { .. } | OrderType::StopLimit { .. } => {
                let reason = "the simulator fills market, stop-market and take-profit-market \
                              orders only"
                    .to_string();
                self.reject(&working, reason, out);
                return;
            }
        };
        let now = match (level, reference) {
            (Some(levels), Some(bar)) => self
                .position_side(bot, symbol)
                .and_then(|side| self.model.intrabar().exit(side, &bar, levels))
                .map(|(price, _)| price),
            (None, Some(bar)) if self.model.timing() == FillTiming::SameBarClose => Some(bar.close),
            _ => None,
        };
        match now {
            Some(price) => self.fill(working, price, out),
            None => {
                if let Some(market) = self.markets.get_mut(&symbol) {
                    market.queue.push(working);
                }
            }
        }
    }

    fn position_side(
        &self,
        bot: BotId,
        symbol: Symbol,
    ) -> Option<charon_events::payload::order::PositionSide> {
        self.books
            .get(&bot)?
            .account
            .position(symbol)
            .and_then(|position| position.side)
    }

    fn reject(&self, working: &Working, reason: String, out: &mut Derived<'_>) {
        let rejected = OrderRejected {
            order_id: working.intent.order_id,
            code: None,
            reason,
        };
        out.emit(
            Event::OrderRejected(rejected),
            Some(working.bot),
            Some(working.intent.order_id.pair),
        );
    }

    /// Fills `working` at `reference` (before slippage) as a taker.
    fn fill(&mut self, working: Working, reference: Price, out: &mut Derived<'_>) {
        let symbol = working.intent.order_id.pair;
        let side = working.intent.side;
        let Some(kind) = self.markets.get(&symbol).map(|market| market.kind) else {
            return;
        };
        let mut qty = working.qty;
        if working.intent.reduce_only {
            let held = self
                .books
                .get(&working.bot)
                .and_then(|book| book.account.position(symbol))
                .filter(|position| {
                    // Reducing means trading against the position's side.
                    position.side.is_some_and(|held| match held {
                        charon_events::payload::order::PositionSide::Long => side == Side::Sell,
                        charon_events::payload::order::PositionSide::Short => side == Side::Buy,
                    })
                })
                .map_or(Quantity::ZERO, |position| position.qty);
            if held.0.is_zero() {
                let reason = "reduce-only order with no position to reduce".to_string();
                self.reject(&working, reason, out);
                return;
            }
            qty = qty.min(held);
        }
        let priced = self.model.market_price(side, reference).and_then(|price| {
            let fee = self.model.fee(price, qty, Liquidity::Taker)?;
            Ok((price, fee))
        });
        let (price, fee) = match priced {
            Ok(priced) => priced,
            Err(error) => {
                self.reject(&working, error.to_string(), out);
                return;
            }
        };
        let execution = Execution {
            symbol,
            kind,
            side,
            price,
            qty,
            fee,
            leverage: match kind {
                MarketKind::Spot => Rate(Decimal::ONE),
                MarketKind::Perpetual => working.intent.leverage,
            },
        };
        let markets = &self.markets;
        let Some(book) = self.books.get_mut(&working.bot) else {
            return;
        };
        let mark = |symbol: Symbol| markets.get(&symbol).and_then(|market| market.mark);
        match book.account.apply_fill(&execution, mark) {
            Ok(_) => {
                let filled = OrderFilled {
                    fill: Fill {
                        order_id: working.intent.order_id,
                        venue_trade_id: None,
                        side,
                        price,
                        qty,
                        fee,
                        liquidity: Liquidity::Taker,
                    },
                    cum_qty: qty,
                    avg_price: price,
                };
                out.emit(Event::OrderFilled(filled), Some(working.bot), Some(symbol));
                self.report_position(working.bot, symbol, out);
                self.report_equity(working.bot, out);
            }
            Err(error) => self.reject(&working, error.to_string(), out),
        }
    }

    fn report_position(&self, bot: BotId, symbol: Symbol, out: &mut Derived<'_>) {
        let Some(position) = self
            .books
            .get(&bot)
            .and_then(|book| book.account.position(symbol))
        else {
            return;
        };
        let Some(market) = self.markets.get(&symbol) else {
            return;
        };
        let mark = market.mark.unwrap_or(position.avg_entry);
        // The estimate depends on the entry, leverage and side only: computed when they change.
        let key = (
            position.avg_entry.0.serialize(),
            position.leverage.0.serialize(),
            position.side,
        );
        let liquidation = match market.liquidation.get() {
            Some((cached, price)) if cached == key => price,
            _ => {
                let price = liquidation_price(position, DEFAULT_MAINTENANCE_MARGIN_RATE);
                market.liquidation.set(Some((key, price)));
                price
            }
        };
        let update = PositionUpdated {
            side: position.side,
            qty: position.qty,
            avg_entry: position.avg_entry,
            mark,
            leverage: position.leverage,
            liquidation_price: liquidation,
            realized_pnl: position.realized,
            unrealized_pnl: position.unrealized(mark).unwrap_or(Money::ZERO),
            fees: position.fees,
            funding: position.funding,
        };
        out.emit(Event::PositionUpdated(update), Some(bot), Some(symbol));
    }

    fn report_equity(&mut self, bot: BotId, out: &mut Derived<'_>) {
        let markets = &self.markets;
        let Some(book) = self.books.get_mut(&bot) else {
            return;
        };
        let mark = |symbol: Symbol| markets.get(&symbol).and_then(|market| market.mark);
        let Ok(valuation) = book.account.valuation(mark) else {
            return;
        };
        let equity = valuation.equity;
        book.peak_equity = book.peak_equity.max(equity);
        let peak = book.peak_equity.0;
        let drawdown = if peak > equity.0 {
            fraction_8dp(peak - equity.0, peak)
        } else {
            Decimal::ZERO
        };
        let update = EquityUpdated {
            cash: book.account.cash(),
            equity,
            realized_pnl: book.account.realized(),
            unrealized_pnl: valuation.unrealized,
            fees: book.account.fees_paid(),
            funding: book.account.funding(),
            peak_equity: book.peak_equity,
            drawdown: Rate(drawdown),
        };
        out.emit(Event::EquityUpdated(update), Some(bot), None);
    }

    /// Fills the orders queued on `symbol` at the price this input offers each side.
    fn fill_queued(
        &mut self,
        symbol: Symbol,
        price: impl Fn(Side) -> Price,
        out: &mut Derived<'_>,
    ) {
        let queue = match self.markets.get_mut(&symbol) {
            Some(market) if !market.queue.is_empty() => std::mem::take(&mut market.queue),
            _ => return,
        };
        for working in queue {
            let reference = price(working.intent.side);
            self.fill(working, reference, out);
        }
    }

    /// Revalues the open position on `symbol` at a bar's close.
    fn mark_to_market(&mut self, symbol: Symbol, out: &mut Derived<'_>) {
        let Some(bot) = self.markets.get(&symbol).map(|market| market.bot) else {
            return;
        };
        let open = self
            .books
            .get(&bot)
            .and_then(|book| book.account.position(symbol))
            .is_some_and(|position| !position.is_flat());
        if open {
            self.report_position(bot, symbol, out);
            self.report_equity(bot, out);
        }
    }

    fn on_bar(&mut self, event: &Envelope, symbol: Symbol, bar: &Bar, out: &mut Derived<'_>) {
        if !bar.closed {
            return;
        }
        if event.origin == Origin::Input {
            let Some(market) = self.markets.get_mut(&symbol) else {
                return;
            };
            market.reference = Some(*bar);
            let queue = std::mem::take(&mut market.queue);
            // Filled at the open, before the close becomes the mark.
            for working in queue {
                self.fill(working, bar.open, out);
            }
            if let Some(market) = self.markets.get_mut(&symbol) {
                market.mark = Some(bar.close);
            }
        }
        // A bar a pair built from trades closed before the trade that completed it, which
        // already set the mark: it only samples the equity curve.
        self.mark_to_market(symbol, out);
    }

    fn on_trade(&mut self, event: &Envelope, symbol: Symbol, price: Price, out: &mut Derived<'_>) {
        if let Some(market) = self.markets.get_mut(&symbol) {
            market.mark = Some(price);
            market.reference = Some(Bar {
                interval: Interval(0),
                open_time: event.ts,
                open: price,
                high: price,
                low: price,
                close: price,
                volume: Quantity::ZERO,
                trades: Some(1),
                closed: true,
            });
        }
        self.fill_queued(symbol, |_| price, out);
    }

    fn on_quote(&mut self, symbol: Symbol, quote: &BookTicker, out: &mut Derived<'_>) {
        self.fill_queued(
            symbol,
            |side| match side {
                Side::Buy => quote.ask,
                Side::Sell => quote.bid,
            },
            out,
        );
    }

    fn on_funding(&mut self, symbol: Symbol, funding: &FundingRate, out: &mut Derived<'_>) {
        let Some((bot, Some(mark))) = self
            .markets
            .get(&symbol)
            .map(|market| (market.bot, market.mark))
        else {
            return;
        };
        let Some(book) = self.books.get_mut(&bot) else {
            return;
        };
        let position_qty = book
            .account
            .position(symbol)
            .map_or(Quantity::ZERO, |position| position.qty);
        match book.account.apply_funding(symbol, funding.rate, mark) {
            Ok(amount) if !amount.0.is_zero() => {
                let paid = FundingPaid {
                    rate: funding.rate,
                    position_qty,
                    mark,
                    amount,
                };
                out.emit(Event::FundingPaid(paid), Some(bot), Some(symbol));
                self.report_position(bot, symbol, out);
                self.report_equity(bot, out);
            }
            _ => {}
        }
    }
}

/// `part / whole` rounded half-up to 8 places, for `0 ≤ part ≤ whole`, `whole > 0`. A ratio
/// reported on every bar: integer arithmetic on the aligned mantissas where they fit (a
/// 28-digit `Decimal` division costs several times more), `Decimal` division otherwise.
fn fraction_8dp(part: Decimal, whole: Decimal) -> Decimal {
    const LIMIT: u128 = 1 << 96;
    let scale = part.scale().max(whole.scale());
    let aligned = |x: Decimal| -> Option<u128> {
        let m = x.mantissa().unsigned_abs();
        m.checked_mul(10u128.checked_pow(scale - x.scale())?)
            .filter(|m| *m < LIMIT)
    };
    match (aligned(part), aligned(whole)) {
        (Some(p), Some(w)) if w > 0 => {
            // p·10^8 < 2^96·2^27 fits in 128 bits.
            let q = (p * 100_000_000 + w / 2) / w;
            Decimal::from_i128_with_scale(q as i128, 8)
        }
        _ => (part / whole).round_dp(8),
    }
}

impl Actor for SimulatedExchange {
    crate::snapshot_whole_state!();

    fn id(&self) -> ActorId {
        ActorId::Exchange(self.venue)
    }

    fn kinds(&self) -> Option<&'static [EventKind]> {
        Some(&[
            EventKind::Trade,
            EventKind::BookTicker,
            EventKind::FundingRate,
            EventKind::MarkPrice,
            EventKind::Bar,
            EventKind::OrderIntent,
            EventKind::OrderApproved,
            EventKind::OrderVetoed,
        ])
    }

    fn concerns(&self, event: &Envelope) -> bool {
        let known_pair = || {
            event
                .pair
                .is_some_and(|symbol| self.markets.contains_key(&symbol))
        };
        match &event.payload {
            Event::Trade(_)
            | Event::BookTicker(_)
            | Event::FundingRate(_)
            | Event::MarkPrice(_) => event.origin == Origin::Input && known_pair(),
            Event::Bar(_) => known_pair(),
            Event::OrderIntent(_) | Event::OrderApproved(_) | Event::OrderVetoed(_) => {
                event.bot.is_some_and(|bot| self.books.contains_key(&bot))
            }
            _ => false,
        }
    }

    fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>) {
        let Some(symbol) = event.pair else { return };
        match &event.payload {
            Event::Trade(trade) => self.on_trade(event, symbol, trade.price, out),
            Event::Bar(bar) => self.on_bar(event, symbol, bar, out),
            Event::BookTicker(quote) => self.on_quote(symbol, quote, out),
            Event::MarkPrice(mark) => {
                if let Some(market) = self.markets.get_mut(&symbol) {
                    market.mark = Some(mark.mark);
                }
            }
            Event::FundingRate(funding) => self.on_funding(symbol, funding, out),
            Event::OrderIntent(intent) => {
                if let Some(bot) = event.bot {
                    self.pending.insert(intent.order_id, (bot, intent.clone()));
                }
            }
            Event::OrderApproved(approved) => {
                self.on_approved(approved.order_id, approved.qty, out)
            }
            Event::OrderVetoed(vetoed) => {
                self.pending.remove(&vetoed.order_id);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! The Exchange run alone under the direct Journal: market data, and the intents and
    //! decisions a Pair and the RiskSupervisor would derive, fed as inputs.
    use crate::testkit::{btc, d, eth, m, p, q};

    use std::cell::RefCell;
    use std::rc::Rc;

    use charon_events::payload::market::MarkPrice;
    use charon_events::payload::order::{
        OrderApproved, OrderPurpose, OrderVetoed, PositionSide, TimeInForce,
    };
    use charon_events::payload::risk::{RiskCheck, RiskRule};
    use charon_events::{EventKind, Num, Seq, Timestamp};

    use super::*;
    use crate::config::validate;
    use crate::journal::{InputMode, Journal, MemorySink};

    const MINUTE_MS: i64 = 60_000;
    /// 10 bps: a buy fills at 1.001 times its reference price, a sell at 0.999 times.
    const SLIPPAGE: &str = "slippage_bps = 10";

    fn bot() -> BotId {
        BotId::new("b").unwrap()
    }

    /// Lets a test read the accounts while the Journal owns the exchange.
    struct Shared(Rc<RefCell<SimulatedExchange>>);

    impl Actor for Shared {
        fn id(&self) -> ActorId {
            self.0.borrow().id()
        }
        fn concerns(&self, event: &Envelope) -> bool {
            self.0.borrow().concerns(event)
        }
        fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>) {
            self.0.borrow_mut().handle(event, out)
        }
        fn snapshot(&self) -> Result<Vec<u8>, crate::journal::SnapshotError> {
            self.0.borrow().snapshot()
        }
        fn restore(&mut self, state: &[u8]) -> Result<(), crate::journal::SnapshotError> {
            self.0.borrow_mut().restore(state)
        }
    }

    struct Harness {
        journal: Journal<MemorySink>,
        exchange: Rc<RefCell<SimulatedExchange>>,
        minute: i64,
        now: i64,
    }

    impl Harness {
        /// Bot `b` with 10000 trades BTCUSDT on spot and ETHUSDT as a 5x perpetual, filled as
        /// `simulation` says (no slippage, a taker fee of 0.05% unless it says otherwise).
        fn new(simulation: &str) -> Self {
            let text = format!(
                "[[bot]]\nname = \"b\"\nquote = \"USDT\"\ninitial_capital = 10000\n\n\
                 [[bot.pair]]\nsymbol = \"BTCUSDT\"\nstrategy = \"t.toml\"\n\
                 sizing = {{ per_trade = {{ quote = 500 }} }}\n\n\
                 [[bot.pair]]\nsymbol = \"ETHUSDT\"\nmarket = \"perpetual\"\nleverage = 5\n\
                 strategy = \"t.toml\"\nsizing = {{ per_trade = {{ quote = 500 }} }}\n\n\
                 [simulation]\n{simulation}\n"
            );
            let config: Config = toml::from_str(&text).unwrap();
            assert_eq!(validate(&config), [], "the test configuration is valid");
            let model = config.simulation.fill_model().unwrap();
            let venue = Venue::new("simulated").unwrap();
            let exchange = Rc::new(RefCell::new(SimulatedExchange::new(venue, model, &config)));
            let journal = Journal::new(
                vec![Box::new(Shared(exchange.clone()))],
                MemorySink::new(InputMode::Recorded),
            )
            .unwrap();
            Self {
                journal,
                exchange,
                minute: 0,
                now: 1_700_000_100_000,
            }
        }

        fn account(&self) -> Account {
            self.exchange.borrow().account(bot()).unwrap().clone()
        }

        fn next_seq(&self) -> Seq {
            self.journal.sink().events.len() as Seq + 1
        }

        fn input(&mut self, input: Envelope) -> Vec<Envelope> {
            let before = self.journal.sink().events.len();
            self.journal.process(input).unwrap();
            self.journal.sink().events[before + 1..].to_vec()
        }

        fn at(&mut self, payload: Event) -> Envelope {
            self.now += 1;
            Envelope::input(Timestamp::from_millis(self.now), payload)
        }

        fn make_bar(&mut self, open: &str, high: &str, low: &str, close: &str) -> (Bar, i64) {
            let open_ms = 1_700_000_100_000 + self.minute * MINUTE_MS;
            self.minute += 1;
            let bar = Bar {
                interval: Interval(60),
                open_time: Timestamp::from_millis(open_ms),
                open: p(open),
                high: p(high),
                low: p(low),
                close: p(close),
                volume: q("5"),
                trades: None,
                closed: true,
            };
            (bar, open_ms + MINUTE_MS)
        }

        /// The next 1m input bar of `pair`.
        fn bar(&mut self, pair: Symbol, ohlc: [&str; 4]) -> Vec<Envelope> {
            let (bar, close_ms) = self.make_bar(ohlc[0], ohlc[1], ohlc[2], ohlc[3]);
            self.now = close_ms;
            let input =
                Envelope::input(Timestamp::from_millis(close_ms), Event::Bar(bar)).with_pair(pair);
            self.input(input)
        }

        fn routed(&mut self, payload: Event, pair: Symbol) -> Vec<Envelope> {
            let input = self.at(payload).with_bot(bot()).with_pair(pair);
            self.input(input)
        }

        /// A Pair's intent and the supervisor's approval, as two inputs; returns what the
        /// approval derived.
        fn order(&mut self, intent: OrderIntent) -> Vec<Envelope> {
            let pair = intent.order_id.pair;
            let approved = OrderApproved {
                order_id: intent.order_id,
                qty: intent.qty,
            };
            assert_eq!(self.routed(Event::OrderIntent(intent), pair), []);
            self.routed(Event::OrderApproved(approved), pair)
        }
    }

    fn intent(
        pair: Symbol,
        cause: Seq,
        side: Side,
        order_type: OrderType,
        qty: &str,
    ) -> OrderIntent {
        OrderIntent {
            order_id: ClientOrderId {
                pair,
                cause,
                leg: 0,
            },
            side,
            order_type,
            time_in_force: TimeInForce::Gtc,
            qty: q(qty),
            expected_price: p("100"),
            leverage: Rate(if pair == eth() { d("5") } else { d("1") }),
            reduce_only: side == Side::Sell && pair == btc(),
            purpose: if side == Side::Sell && pair == btc() {
                OrderPurpose::Exit
            } else {
                OrderPurpose::Entry
            },
            reason: "test".into(),
        }
    }

    fn kinds(events: &[Envelope]) -> Vec<EventKind> {
        events.iter().map(|event| event.payload.kind()).collect()
    }

    fn filled(event: &Envelope) -> &OrderFilled {
        match &event.payload {
            Event::OrderFilled(filled) => filled,
            other => panic!("expected a fill, got {other:?}"),
        }
    }

    fn position(event: &Envelope) -> &PositionUpdated {
        match &event.payload {
            Event::PositionUpdated(update) => update,
            other => panic!("expected a position update, got {other:?}"),
        }
    }

    fn equity(event: &Envelope) -> &EquityUpdated {
        match &event.payload {
            Event::EquityUpdated(update) => update,
            other => panic!("expected an equity update, got {other:?}"),
        }
    }

    /// Buys 2 BTCUSDT decided on a bar closing at 101 and filled at the next bar's open, 102
    /// (the latest bar ranges 101–104): with [`SLIPPAGE`] at 102·1.001 = 102.102, fee
    /// 102.102·2·0.0005 = 0.102102, cash 10000 − 204.204 − 0.102102 = 9795.693898. Returns
    /// what the filling bar derived.
    fn long_two_btc(h: &mut Harness) -> Vec<Envelope> {
        let seq = h.next_seq();
        assert_eq!(
            h.bar(btc(), ["100", "102", "99", "101"]),
            [],
            "nothing held"
        );
        let buy = intent(btc(), seq, Side::Buy, OrderType::Market, "2");
        assert_eq!(h.order(buy), [], "waits for the next bar");
        h.bar(btc(), ["102", "104", "101", "103"])
    }

    #[test]
    fn a_market_order_fills_at_the_next_bars_open() {
        let mut h = Harness::new(SLIPPAGE);
        let derived = long_two_btc(&mut h);
        assert_eq!(
            kinds(&derived),
            [
                EventKind::OrderFilled,
                EventKind::PositionUpdated,
                EventKind::EquityUpdated,
                // Then the bar's close revalues the position.
                EventKind::PositionUpdated,
                EventKind::EquityUpdated,
            ]
        );
        let seq = h.next_seq() - 1 - derived.len() as Seq;
        for event in &derived {
            assert_eq!(
                event.origin,
                Origin::Derived(ActorId::Exchange(Venue::new("simulated").unwrap()))
            );
            assert_eq!(event.cause, Some(seq), "the filling bar's seq");
            assert_eq!(event.bot, Some(bot()));
        }
        assert_eq!(derived[0].pair, Some(btc()));
        assert_eq!(derived[2].pair, None, "equity is the bot's");
        assert_eq!(
            filled(&derived[0]),
            &OrderFilled {
                fill: Fill {
                    order_id: ClientOrderId {
                        pair: btc(),
                        cause: 1,
                        leg: 0
                    },
                    venue_trade_id: None,
                    side: Side::Buy,
                    price: p("102.102"),
                    qty: q("2"),
                    fee: m("0.102102"),
                    liquidity: Liquidity::Taker,
                },
                cum_qty: q("2"),
                avg_price: p("102.102"),
            }
        );
        // At the fill the mark is still the previous close, 101: 2·101 − 204.204 = −2.204.
        assert_eq!(
            position(&derived[1]),
            &PositionUpdated {
                side: Some(PositionSide::Long),
                qty: q("2"),
                avg_entry: p("102.102"),
                mark: p("101"),
                leverage: Rate(d("1")),
                liquidation_price: None,
                realized_pnl: Money::ZERO,
                unrealized_pnl: m("-2.204"),
                fees: m("0.102102"),
                funding: Money::ZERO,
            }
        );
        // Equity 9795.693898 + 2·101 = 9997.693898, 0.0002306102 below the initial 10000.
        assert_eq!(
            equity(&derived[2]),
            &EquityUpdated {
                cash: m("9795.693898"),
                equity: m("9997.693898"),
                realized_pnl: Money::ZERO,
                unrealized_pnl: m("-2.204"),
                fees: m("0.102102"),
                funding: Money::ZERO,
                peak_equity: m("10000"),
                drawdown: Rate(d("0.00023061")),
            }
        );
        // At the close of 103: 206 − 204.204 = 1.796, equity 10001.693898, a new peak.
        let update = position(&derived[3]);
        assert_eq!((update.mark, update.unrealized_pnl), (p("103"), m("1.796")));
        let update = equity(&derived[4]);
        assert_eq!(
            (update.equity, update.peak_equity, update.drawdown),
            (m("10001.693898"), m("10001.693898"), Rate(Decimal::ZERO))
        );
        assert_eq!(h.account().cash(), m("9795.693898"));
    }

    #[test]
    fn same_bar_close_fills_at_once_at_the_latest_close() {
        let mut h = Harness::new("fill = \"same_bar_close\"\nslippage_bps = 10");
        h.bar(btc(), ["100", "102", "99", "101"]);
        let derived = h.order(intent(btc(), 1, Side::Buy, OrderType::Market, "2"));
        assert_eq!(
            kinds(&derived),
            [
                EventKind::OrderFilled,
                EventKind::PositionUpdated,
                EventKind::EquityUpdated
            ]
        );
        // 101·1.001 = 101.101; fee 101.101·2·0.0005 = 0.101101.
        let fill = &filled(&derived[0]).fill;
        assert_eq!((fill.price, fill.fee), (p("101.101"), m("0.101101")));
        // Marked at that close: 202 − 202.202.
        assert_eq!(position(&derived[1]).unrealized_pnl, m("-0.202"));
        // The next bar fills nothing more; it only revalues.
        let derived = h.bar(btc(), ["90", "91", "89", "90"]);
        assert_eq!(
            kinds(&derived),
            [EventKind::PositionUpdated, EventKind::EquityUpdated]
        );
    }

    #[test]
    fn a_stop_fills_at_its_level_against_the_latest_bar() {
        let mut h = Harness::new(SLIPPAGE);
        long_two_btc(&mut h);
        // Opens at 103, above the stop at 100.5, and falls to 99 through it.
        h.bar(btc(), ["103", "103.5", "99", "100"]);
        let stop = OrderType::StopMarket {
            trigger: p("100.5"),
        };
        let derived = h.order(intent(btc(), 9, Side::Sell, stop, "2"));
        assert_eq!(
            kinds(&derived),
            [
                EventKind::OrderFilled,
                EventKind::PositionUpdated,
                EventKind::EquityUpdated
            ]
        );
        // 100.5·(1 − 0.001) = 100.3995; fee 100.3995·2·0.0005 = 0.1003995.
        let fill = &filled(&derived[0]).fill;
        assert_eq!((fill.side, fill.price), (Side::Sell, p("100.3995")));
        assert_eq!((fill.qty, fill.fee), (q("2"), m("0.1003995")));
        // Realized 2·100.3995 − 204.204 = −3.405; fees 0.102102 + 0.1003995.
        let update = position(&derived[1]);
        assert_eq!((update.side, update.qty), (None, Quantity::ZERO));
        assert_eq!(update.realized_pnl, m("-3.405"));
        assert_eq!(update.fees, m("0.2025015"));
        // Cash 9795.693898 + 200.799 − 0.1003995, all of the equity now.
        let update = equity(&derived[2]);
        assert_eq!(update.cash, m("9996.3924985"));
        assert_eq!(update.equity, m("9996.3924985"));
        assert_eq!(h.account().cash(), m("9996.3924985"));
    }

    #[test]
    fn a_gap_through_the_stop_fills_at_the_open() {
        let mut h = Harness::new("");
        long_two_btc(&mut h);
        h.bar(btc(), ["99", "100", "97", "98"]);
        let stop = OrderType::StopMarket {
            trigger: p("100.5"),
        };
        let derived = h.order(intent(btc(), 9, Side::Sell, stop, "2"));
        assert_eq!(filled(&derived[0]).fill.price, p("99"));
    }

    #[test]
    fn a_stop_not_reached_waits_for_the_next_input() {
        let mut h = Harness::new("");
        long_two_btc(&mut h);
        // The latest bar (101–104) never reached 100.5: nothing fills yet.
        let stop = OrderType::StopMarket {
            trigger: p("100.5"),
        };
        assert_eq!(h.order(intent(btc(), 9, Side::Sell, stop, "2")), []);
        let derived = h.bar(btc(), ["102.5", "103", "102", "102.5"]);
        assert_eq!(filled(&derived[0]).fill.price, p("102.5"));
    }

    #[test]
    fn quotes_fill_buys_at_the_ask_and_sells_at_the_bid() {
        let mut h = Harness::new(SLIPPAGE);
        h.bar(btc(), ["100", "100", "100", "100"]);
        h.order(intent(btc(), 1, Side::Buy, OrderType::Market, "1"));
        let quote = |bid: &str, ask: &str| {
            Event::BookTicker(BookTicker {
                update_id: 7,
                bid: p(bid),
                bid_qty: q("3"),
                ask: p(ask),
                ask_qty: q("3"),
            })
        };
        let input = h.at(quote("99.9", "100.1")).with_pair(btc());
        let derived = h.input(input);
        // 100.1·1.001 = 100.2001; fee 100.2001·0.0005 = 0.05010005.
        let fill = &filled(&derived[0]).fill;
        assert_eq!((fill.price, fill.fee), (p("100.2001"), m("0.05010005")));
        assert_eq!(
            kinds(&derived),
            [
                EventKind::OrderFilled,
                EventKind::PositionUpdated,
                EventKind::EquityUpdated
            ],
            "a quote is no bar: no revaluation"
        );
        h.order(intent(btc(), 2, Side::Sell, OrderType::Market, "1"));
        let input = h.at(quote("100.5", "100.7")).with_pair(btc());
        let derived = h.input(input);
        // 100.5·0.999 = 100.3995.
        assert_eq!(filled(&derived[0]).fill.price, p("100.3995"));
    }

    #[test]
    fn reduce_only_without_a_position_is_rejected() {
        let mut h = Harness::new(SLIPPAGE);
        h.bar(btc(), ["100", "100", "100", "100"]);
        let sell = intent(btc(), 1, Side::Sell, OrderType::Market, "1");
        assert!(sell.reduce_only);
        let id = sell.order_id;
        assert_eq!(h.order(sell), []);
        let derived = h.bar(btc(), ["100", "100", "100", "100"]);
        assert_eq!(
            derived.iter().map(|e| &e.payload).collect::<Vec<_>>(),
            [&Event::OrderRejected(OrderRejected {
                order_id: id,
                code: None,
                reason: "reduce-only order with no position to reduce".into(),
            })]
        );
        assert_eq!(
            (derived[0].bot, derived[0].pair),
            (Some(bot()), Some(btc()))
        );
        assert_eq!(h.account(), Account::new(m("10000")));
    }

    #[test]
    fn reduce_only_is_cut_to_the_position() {
        let mut h = Harness::new(SLIPPAGE);
        long_two_btc(&mut h);
        h.order(intent(btc(), 9, Side::Sell, OrderType::Market, "5"));
        let derived = h.bar(btc(), ["100", "100", "100", "100"]);
        let fill = filled(&derived[0]);
        assert_eq!((fill.fill.qty, fill.cum_qty), (q("2"), q("2")));
        assert_eq!(position(&derived[1]).side, None);
    }

    #[test]
    fn insufficient_cash_is_rejected_and_the_account_is_unchanged() {
        let mut h = Harness::new(SLIPPAGE);
        h.bar(btc(), ["100", "102", "99", "101"]);
        let buy = intent(btc(), 1, Side::Buy, OrderType::Market, "100");
        h.order(buy.clone());
        let before = h.account();
        let derived = h.bar(btc(), ["102", "104", "101", "103"]);
        assert_eq!(kinds(&derived), [EventKind::OrderRejected]);
        assert_eq!(
            (derived[0].bot, derived[0].pair),
            (Some(bot()), Some(btc()))
        );
        let Event::OrderRejected(rejected) = &derived[0].payload else {
            unreachable!()
        };
        assert_eq!((rejected.order_id, rejected.code), (buy.order_id, None));
        // The account's reason: 100 at 102.102 is 10210.2, plus a fee of 5.1051 (the amounts
        // compared as numbers, whatever trailing zeros they are written with).
        assert!(
            rejected
                .reason
                .starts_with("insufficient cash: the buy costs "),
            "{}",
            rejected.reason
        );
        let amounts: Vec<Decimal> = rejected
            .reason
            .split(' ')
            .filter_map(|word| word.trim_end_matches(',').parse().ok())
            .collect();
        assert_eq!(
            amounts,
            [d("10215.3051"), d("10000")],
            "{}",
            rejected.reason
        );
        assert_eq!(h.account(), before);
        assert_eq!(before, Account::new(m("10000")));
    }

    #[test]
    fn funding_on_a_perpetual_long_is_paid_at_the_mark() {
        let mut h = Harness::new(SLIPPAGE);
        h.bar(eth(), ["2000", "2000", "2000", "2000"]);
        h.order(intent(eth(), 1, Side::Buy, OrderType::Market, "1"));
        // Filled at 2000·1.001 = 2002 (fee 1.001), marked at the close of 2010.
        let derived = h.bar(eth(), ["2000", "2015", "1995", "2010"]);
        let update = position(&derived[3]);
        assert_eq!((update.avg_entry, update.mark), (p("2002"), p("2010")));
        // Estimated liquidation of a 5x long: 2002·(1 − 1/5 + 0.004) = 1609.608.
        assert_eq!(update.liquidation_price, Some(p("1609.608")));
        let funding = FundingRate {
            rate: Rate(d("0.0001")),
            funding_time: Timestamp::from_millis(h.now + 1),
        };
        let input = h.at(Event::FundingRate(funding)).with_pair(eth());
        let derived = h.input(input);
        assert_eq!(
            kinds(&derived),
            [
                EventKind::FundingPaid,
                EventKind::PositionUpdated,
                EventKind::EquityUpdated
            ]
        );
        // A long pays qty·mark·rate = 1·2010·0.0001 = 0.201.
        assert_eq!(
            derived[0].payload,
            Event::FundingPaid(FundingPaid {
                rate: Rate(d("0.0001")),
                position_qty: q("1"),
                mark: p("2010"),
                amount: m("-0.201"),
            })
        );
        assert_eq!(derived[0].pair, Some(eth()));
        assert_eq!(position(&derived[1]).funding, m("-0.201"));
        // A perpetual moves no cash on opening: 10000 − 1.001 − 0.201; equity adds the
        // unrealized 2010 − 2002 = 8.
        let update = equity(&derived[2]);
        assert_eq!(update.funding, m("-0.201"));
        assert_eq!(update.cash, m("9998.798"));
        assert_eq!(update.equity, m("10006.798"));
    }

    #[test]
    fn funding_follows_the_latest_mark_price() {
        let mut h = Harness::new("");
        h.bar(eth(), ["2000", "2000", "2000", "2000"]);
        let mut sell = intent(eth(), 1, Side::Sell, OrderType::Market, "2");
        sell.purpose = OrderPurpose::Entry;
        h.order(sell);
        h.bar(eth(), ["2000", "2000", "2000", "2000"]);
        let mark = MarkPrice {
            mark: p("1990"),
            index: None,
            funding_rate: None,
            next_funding_time: None,
        };
        let input = h.at(Event::MarkPrice(mark)).with_pair(eth());
        assert_eq!(h.input(input), []);
        let funding = FundingRate {
            rate: Rate(d("0.0002")),
            funding_time: Timestamp::from_millis(h.now),
        };
        let input = h.at(Event::FundingRate(funding)).with_pair(eth());
        let derived = h.input(input);
        // A short receives 2·1990·0.0002 = 0.796.
        let Event::FundingPaid(paid) = &derived[0].payload else {
            panic!("{derived:#?}")
        };
        assert_eq!((paid.mark, paid.amount), (p("1990"), m("0.796")));
    }

    #[test]
    fn no_funding_on_spot_or_flat_positions() {
        let mut h = Harness::new(SLIPPAGE);
        long_two_btc(&mut h);
        h.bar(eth(), ["2000", "2000", "2000", "2000"]);
        for pair in [btc(), eth()] {
            let funding = FundingRate {
                rate: Rate(d("0.0001")),
                funding_time: Timestamp::from_millis(h.now),
            };
            let input = h.at(Event::FundingRate(funding)).with_pair(pair);
            assert_eq!(h.input(input), [], "{pair}");
        }
    }

    #[test]
    fn bars_revalue_only_while_a_position_is_open() {
        let mut h = Harness::new(SLIPPAGE);
        assert_eq!(h.bar(btc(), ["100", "100", "100", "100"]), []);
        long_two_btc(&mut h);
        let derived = h.bar(btc(), ["103", "106", "103", "105"]);
        assert_eq!(
            kinds(&derived),
            [EventKind::PositionUpdated, EventKind::EquityUpdated]
        );
        assert_eq!(position(&derived[0]).mark, p("105"));
        // Another symbol's bar does not revalue BTCUSDT.
        assert_eq!(h.bar(eth(), ["2000", "2000", "2000", "2000"]), []);
        h.order(intent(btc(), 9, Side::Sell, OrderType::Market, "2"));
        let derived = h.bar(btc(), ["104", "104", "104", "104"]);
        assert_eq!(
            kinds(&derived),
            [
                EventKind::OrderFilled,
                EventKind::PositionUpdated,
                EventKind::EquityUpdated
            ],
            "flat after the fill: no revaluation at the close"
        );
        assert_eq!(h.bar(btc(), ["104", "104", "104", "104"]), []);
    }

    #[test]
    fn derived_bars_never_fill_queued_orders() {
        let mut h = Harness::new("");
        h.bar(btc(), ["100", "100", "100", "100"]);
        h.order(intent(btc(), 1, Side::Buy, OrderType::Market, "1"));
        // A Pair's bar (derived from trades or shorter bars): its open is in the past.
        let (bar, close_ms) = h.make_bar("90", "91", "89", "90");
        let derived_bar =
            Envelope::derived(Timestamp::from_millis(close_ms), ActorId::Pair(btc()), 1, {
                Event::Bar(bar)
            })
            .with_bot(bot())
            .with_pair(btc());
        assert_eq!(h.input(derived_bar), []);
        // The next market input fills it.
        let derived = h.bar(btc(), ["101", "101", "101", "101"]);
        assert_eq!(filled(&derived[0]).fill.price, p("101"));
    }

    #[test]
    fn a_vetoed_intent_is_forgotten() {
        let mut h = Harness::new(SLIPPAGE);
        h.bar(btc(), ["100", "100", "100", "100"]);
        let buy = intent(btc(), 1, Side::Buy, OrderType::Market, "1");
        let id = buy.order_id;
        h.routed(Event::OrderIntent(buy), btc());
        let vetoed = OrderVetoed {
            order_id: id,
            check: RiskCheck {
                rule: RiskRule::BotNotRunning,
                threshold: Num::ZERO,
                observed: Num::ZERO,
                message: "no".into(),
            },
        };
        h.routed(Event::OrderVetoed(vetoed), btc());
        let approved = OrderApproved {
            order_id: id,
            qty: q("1"),
        };
        h.routed(Event::OrderApproved(approved), btc());
        assert_eq!(h.bar(btc(), ["100", "100", "100", "100"]), []);
    }

    #[test]
    fn trades_fill_at_their_price() {
        let mut h = Harness::new("");
        h.bar(btc(), ["100", "100", "100", "100"]);
        h.order(intent(btc(), 1, Side::Buy, OrderType::Market, "1"));
        let trade = charon_events::payload::market::Trade {
            trade_id: 1,
            price: p("100.7"),
            qty: q("0.1"),
            aggressor: charon_events::payload::market::Aggressor::Seller,
        };
        let input = h.at(Event::Trade(trade)).with_pair(btc());
        let derived = h.input(input);
        assert_eq!(filled(&derived[0]).fill.price, p("100.7"));
        // The trade is the new mark.
        assert_eq!(position(&derived[1]).mark, p("100.7"));
    }

    #[test]
    fn a_derived_bar_samples_equity_at_the_latest_trade_not_its_own_close() {
        let mut h = Harness::new("");
        h.bar(btc(), ["100", "100", "100", "100"]);
        h.order(intent(btc(), 1, Side::Buy, OrderType::Market, "1"));
        let trade = charon_events::payload::market::Trade {
            trade_id: 1,
            price: p("103"),
            qty: q("0.1"),
            aggressor: charon_events::payload::market::Aggressor::Buyer,
        };
        let input = h.at(Event::Trade(trade)).with_pair(btc());
        assert_eq!(filled(&h.input(input)[0]).fill.price, p("103"));
        // The Pair's bar closed (at 101) before the trade at 103 that completed it.
        let (bar, close_ms) = h.make_bar("100", "102", "99", "101");
        let derived_bar =
            Envelope::derived(Timestamp::from_millis(close_ms), ActorId::Pair(btc()), 1, {
                Event::Bar(bar)
            })
            .with_bot(bot())
            .with_pair(btc());
        let derived = h.input(derived_bar);
        assert_eq!(position(&derived[0]).mark, p("103"));
    }

    #[test]
    fn fractions_round_to_eight_places() {
        assert_eq!(fraction_8dp(d("1"), d("3")), d("0.33333333"));
        assert_eq!(fraction_8dp(d("2"), d("3")), d("0.66666667"));
        assert_eq!(fraction_8dp(d("0.5"), d("1000.25")), d("0.00049988"));
        assert_eq!(fraction_8dp(d("0"), d("7")), Decimal::ZERO);
        // Mantissas too long to align in 96 bits take Decimal's division.
        let whole = d("79228162514264337593543950.335");
        assert_eq!(
            fraction_8dp(d("0.0000000000000000000000001"), whole),
            Decimal::ZERO
        );
        assert_eq!(fraction_8dp(whole, whole), Decimal::ONE);
    }
}
