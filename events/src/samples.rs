//! Sample envelopes, one per event kind, for golden logs, documentation and tests.
//!
//! The market samples are real: the BTCUSDT trade and book ticker come from the Binance spot
//! recording `hftbacktest/spot/btcusdt_20240808.gz` (decimals kept exactly as Binance sent
//! them), the XRPUSDT bar, funding rate and mark price from freqtrade's XRP/USDT perpetual files
//! (`freqtrade/futures/XRP_USDT_USDT-*`). Everything else (orders, fills, accounts, risk
//! decisions, operator and external inputs) is illustrative: prices and amounts in it are
//! computed from those market values, bot settings are made up, and nothing in it claims to
//! have happened. The samples are a catalogue, not one run: seqs follow [`EventKind::ALL`],
//! not time, and each cause points at a plausible earlier sample.

use std::fmt::Debug;
use std::str::FromStr;

use uuid::Uuid;

use crate::envelope::Envelope;
use crate::event::{Event, EventKind};
use crate::ids::{ActorId, BotId, ClientOrderId, LogId, Seq, Symbol, Timestamp, Venue};
use crate::money::Num;
use crate::payload::control::*;
use crate::payload::external::*;
use crate::payload::manifest::*;
use crate::payload::market::*;
use crate::payload::order::*;
use crate::payload::risk::*;

/// Trade time `T` of BTCUSDT trade 3735683259 in the spot recording.
const BTC_TRADE_TS: Timestamp = Timestamp::from_millis(1_723_161_255_342);
/// Local receive time of bookTicker update 50093239212 (spot bookTicker frames carry no
/// exchange time; the recording adapter stamps every event with this clock).
const BTC_BOOK_TS: Timestamp = Timestamp::from_nanos(1_723_161_254_087_891_268);
/// 2024-08-09T00:00:00Z, the first UTC midnight after the BTCUSDT samples: daily resets.
const BTC_MIDNIGHT: Timestamp = Timestamp::from_millis(1_723_161_600_000);
/// Open time of the XRPUSDT 5m bar sampled (2021-11-18T07:50:00Z).
const XRP_BAR_OPEN: Timestamp = Timestamp::from_millis(1_637_221_800_000);
/// Its close time as Binance states it: the last millisecond of the bar.
const XRP_BAR_CLOSE: Timestamp = Timestamp::from_millis(1_637_222_099_999);
/// The XRPUSDT funding at 2021-11-18T08:00:00.007Z.
const XRP_FUNDING_TS: Timestamp = Timestamp::from_millis(1_637_222_400_007);
/// 2021-11-18T06:00:00Z, the open of the 1h mark-price bar sampled.
const XRP_MARK_TS: Timestamp = Timestamp::from_millis(1_637_215_200_000);
/// 2021-11-18T08:00:00Z, the funding that followed the mark price sample.
const XRP_NEXT_FUNDING: Timestamp = Timestamp::from_millis(1_637_222_400_000);

/// The illustrative bot config that the operator command and the run manifest carry.
const BOT_CONFIG_TOML: &str = "[bot]\nname = \"btc-spot\"\nvenue = \"sim\"\nquote = \"USDT\"\n\
                               starting_cash = \"10000\"\npairs = [\"BTCUSDT\"]\n";
/// SHA-256 of [`BOT_CONFIG_TOML`], hex (computed with `sha256sum`).
const BOT_CONFIG_SHA256: &str = "4b1699cef3d8bb065a0a5ed589357a3620445e042d61e547ce07b3188bdea25e";

/// One envelope per [`EventKind`], in [`EventKind::ALL`] order, with seqs `1..=N`.
pub fn one_of_each() -> Vec<Envelope> {
    EventKind::ALL.iter().map(|&kind| one_of(kind)).collect()
}

/// A position update, for tests of what reads them (reports, statistics, diffs): `side`
/// `None` is flat; amounts are decimal text; marked at 100, 1x, no liquidation price.
pub fn position_update(
    side: Option<PositionSide>,
    qty: &str,
    avg_entry: &str,
    realized: &str,
    unrealized: &str,
    fees: &str,
    funding: &str,
) -> PositionUpdated {
    PositionUpdated {
        side,
        qty: dec(qty),
        avg_entry: dec(avg_entry),
        mark: dec("100"),
        leverage: dec("1"),
        liquidation_price: None,
        realized_pnl: dec(realized),
        unrealized_pnl: dec(unrealized),
        fees: dec(fees),
        funding: dec(funding),
    }
}

/// The sample of `kind`, with the seq it has in [`one_of_each`].
pub fn one_of(kind: EventKind) -> Envelope {
    let mut env = unnumbered(kind);
    env.seq = seq_of(kind);
    env
}

/// The seq of `kind`'s sample: its position in [`EventKind::ALL`], from 1.
fn seq_of(kind: EventKind) -> Seq {
    let index = EventKind::ALL
        .iter()
        .position(|&k| k == kind)
        .expect("EventKind::ALL holds every kind");
    index as Seq + 1
}

fn dec<T: FromStr>(text: &str) -> T
where
    T::Err: Debug,
{
    text.parse().expect("sample decimals are valid")
}

fn btcusdt() -> Symbol {
    Symbol::new("BTCUSDT").expect("valid symbol")
}

fn xrpusdt() -> Symbol {
    Symbol::new("XRPUSDT").expect("valid symbol")
}

fn btc_bot() -> BotId {
    BotId::new("btc-spot").expect("valid bot name")
}

fn xrp_bot() -> BotId {
    BotId::new("xrp-perp").expect("valid bot name")
}

fn sim() -> Venue {
    Venue::new("sim").expect("valid venue")
}

fn binance_spot() -> Venue {
    Venue::new("binance-spot").expect("valid venue")
}

/// The BTCUSDT bot's orders: legs of one decision caused by the sampled trade.
fn btc_order(leg: u16) -> ClientOrderId {
    ClientOrderId {
        pair: btcusdt(),
        cause: seq_of(EventKind::Trade),
        leg,
    }
}

fn check(rule: RiskRule, threshold: &str, observed: &str, message: &str) -> RiskCheck {
    RiskCheck {
        rule,
        threshold: dec::<Num>(threshold),
        observed: dec::<Num>(observed),
        message: message.to_string(),
    }
}

/// A fill of the bot's resting bid at 61837.63, the price trade 3735683259 printed at; the
/// maker fee is 0.1% of the notional, in USDT.
fn btc_fill(qty: &str, fee: &str) -> Fill {
    Fill {
        order_id: btc_order(0),
        venue_trade_id: None, // the simulator has no venue trade ids
        side: Side::Buy,
        price: dec("61837.63000000"),
        qty: dec(qty),
        fee: dec(fee),
        liquidity: Liquidity::Maker,
    }
}

/// An event of the BTCUSDT bot derived by `actor` from the sample of `cause`.
fn btc_pair(ts: Timestamp, actor: ActorId, cause: EventKind, payload: Event) -> Envelope {
    Envelope::derived(ts, actor, seq_of(cause), payload)
        .with_bot(btc_bot())
        .with_pair(btcusdt())
}

/// A bot-level event of the BTCUSDT bot (no pair) derived by its RiskSupervisor.
fn btc_risk(ts: Timestamp, cause: EventKind, payload: Event) -> Envelope {
    Envelope::derived(
        ts,
        ActorId::RiskSupervisor(btc_bot()),
        seq_of(cause),
        payload,
    )
    .with_bot(btc_bot())
}

/// An event of the XRPUSDT bot derived by its pair from the sample of `cause`.
fn xrp_pair(ts: Timestamp, cause: EventKind, payload: Event) -> Envelope {
    Envelope::derived(ts, ActorId::Pair(xrpusdt()), seq_of(cause), payload)
        .with_bot(xrp_bot())
        .with_pair(xrpusdt())
}

/// The sample of `kind` with seq 0.
fn unnumbered(kind: EventKind) -> Envelope {
    let pair = ActorId::Pair(btcusdt());
    let exchange = ActorId::Exchange(sim());
    match kind {
        // {"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000",
        //  "q":"0.02000000","T":1723161255342,"m":true,"M":true}
        EventKind::Trade => Envelope::input(
            BTC_TRADE_TS,
            Event::Trade(Trade {
                trade_id: 3_735_683_259,
                price: dec("61837.63000000"),
                qty: dec("0.02000000"),
                aggressor: Aggressor::Seller, // m=true: the buyer was the maker
            }),
        )
        .with_pair(btcusdt()),
        // {"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000",
        //  "a":"61837.64000000","A":"1.54698000"}
        EventKind::BookTicker => Envelope::input(
            BTC_BOOK_TS,
            Event::BookTicker(BookTicker {
                update_id: 50_093_239_212,
                bid: dec("61837.63000000"),
                bid_qty: dec("3.78826000"),
                ask: dec("61837.64000000"),
                ask_qty: dec("1.54698000"),
            }),
        )
        .with_pair(btcusdt()),
        // XRP_USDT_USDT-5m-futures.csv: 2021-11-18 07:50:00+00:00,1.1065,1.1079,1.1044,1.105,2062578.0
        EventKind::Bar => Envelope::input(
            XRP_BAR_CLOSE,
            Event::Bar(Bar {
                interval: Interval(300),
                open_time: XRP_BAR_OPEN,
                open: dec("1.1065"),
                high: dec("1.1079"),
                low: dec("1.1044"),
                close: dec("1.105"),
                volume: dec("2062578.0"),
                trades: None, // the source does not say
                closed: true,
            }),
        )
        .with_pair(xrpusdt()),
        // XRP_USDT_USDT-8h-funding_rate.csv: 2021-11-18 08:00:00.007+00:00,0.0001 (rate in `open`)
        EventKind::FundingRate => Envelope::input(
            XRP_FUNDING_TS,
            Event::FundingRate(FundingRate {
                rate: dec("0.0001"),
                funding_time: XRP_FUNDING_TS,
            }),
        )
        .with_pair(xrpusdt()),
        // XRP_USDT_USDT-1h-mark.csv: 2021-11-18 06:00:00+00:00, open 1.11398. The files hold no
        // index price; the funding rate is the one settled at the next funding, 08:00.
        EventKind::MarkPrice => Envelope::input(
            XRP_MARK_TS,
            Event::MarkPrice(MarkPrice {
                mark: dec("1.11398"),
                index: None,
                funding_rate: Some(dec("0.0001")),
                next_funding_time: Some(XRP_NEXT_FUNDING),
            }),
        )
        .with_pair(xrpusdt()),
        EventKind::Signal => xrp_pair(
            XRP_BAR_CLOSE,
            EventKind::Bar,
            Event::Signal(Signal {
                action: SignalAction::EnterLong,
                source: SignalSource::Strategy,
                rule: "long_entry".into(),
            }),
        ),
        EventKind::SignalBlocked => xrp_pair(
            XRP_BAR_CLOSE,
            EventKind::Signal,
            Event::SignalBlocked(SignalBlocked {
                action: SignalAction::EnterLong,
                check: check(
                    RiskRule::FundingRateGate,
                    "0.00005",
                    "0.0001",
                    "funding rate 0.0001 above the 0.00005 allowed for longs",
                ),
            }),
        ),
        // A limit buy joining the best bid; a second leg would take the position over its cap.
        EventKind::OrderIntent => btc_pair(
            BTC_TRADE_TS,
            pair,
            EventKind::Trade,
            Event::OrderIntent(OrderIntent {
                order_id: btc_order(0),
                side: Side::Buy,
                order_type: OrderType::Limit {
                    price: dec("61837.63000000"),
                },
                time_in_force: TimeInForce::Gtc,
                qty: dec("0.03000000"),
                expected_price: dec("61837.63000000"),
                leverage: dec("1"),
                reduce_only: false,
                purpose: OrderPurpose::Entry,
                reason: "entry: long_entry".into(),
            }),
        ),
        EventKind::OrderApproved => btc_pair(
            BTC_TRADE_TS,
            ActorId::RiskSupervisor(btc_bot()),
            EventKind::OrderIntent,
            Event::OrderApproved(OrderApproved {
                order_id: btc_order(0),
                qty: dec("0.03000000"),
            }),
        ),
        EventKind::OrderVetoed => btc_pair(
            BTC_TRADE_TS,
            ActorId::RiskSupervisor(btc_bot()),
            EventKind::OrderIntent,
            Event::OrderVetoed(OrderVetoed {
                order_id: btc_order(1),
                check: check(
                    RiskRule::PositionSizeCap,
                    "0.05",
                    "0.06",
                    "position would be 0.06 BTC, above the 0.05 BTC cap",
                ),
            }),
        ),
        EventKind::OrderSubmitted => btc_pair(
            BTC_TRADE_TS,
            ActorId::Journal,
            EventKind::OrderApproved,
            Event::OrderSubmitted(OrderSubmitted {
                order_id: btc_order(0),
            }),
        ),
        EventKind::OrderAccepted => btc_pair(
            BTC_TRADE_TS,
            exchange,
            EventKind::OrderSubmitted,
            Event::OrderAccepted(OrderAccepted {
                order_id: btc_order(0),
                venue_order_id: "sim-1".into(),
            }),
        ),
        // The simulator answers with Binance's code and message (spot errors.md, -2010).
        EventKind::OrderRejected => btc_pair(
            BTC_TRADE_TS,
            exchange,
            EventKind::OrderSubmitted,
            Event::OrderRejected(OrderRejected {
                order_id: btc_order(2),
                code: Some(-2010),
                reason: "Account has insufficient balance for requested action.".into(),
            }),
        ),
        // 61837.63 * 0.02 * 0.001 = 1.2367526
        EventKind::OrderPartiallyFilled => btc_pair(
            BTC_TRADE_TS,
            exchange,
            EventKind::OrderAccepted,
            Event::OrderPartiallyFilled(OrderPartiallyFilled {
                fill: btc_fill("0.02000000", "1.2367526"),
                cum_qty: dec("0.02000000"),
                leaves_qty: dec("0.01000000"),
            }),
        ),
        // 61837.63 * 0.01 * 0.001 = 0.6183763
        EventKind::OrderFilled => btc_pair(
            BTC_TRADE_TS,
            exchange,
            EventKind::OrderPartiallyFilled,
            Event::OrderFilled(OrderFilled {
                fill: btc_fill("0.01000000", "0.6183763"),
                cum_qty: dec("0.03000000"),
                avg_price: dec("61837.63000000"),
            }),
        ),
        EventKind::CancelRequested => btc_pair(
            BTC_TRADE_TS,
            pair,
            EventKind::OrderIntent,
            Event::CancelRequested(CancelRequested {
                order_id: btc_order(3),
                reason: "entry signal withdrawn".into(),
            }),
        ),
        EventKind::OrderCanceled => btc_pair(
            BTC_TRADE_TS,
            exchange,
            EventKind::CancelRequested,
            Event::OrderCanceled(OrderCanceled {
                order_id: btc_order(3),
                filled_qty: dec("0"),
            }),
        ),
        EventKind::OrderExpired => btc_pair(
            BTC_TRADE_TS,
            exchange,
            EventKind::OrderSubmitted,
            Event::OrderExpired(OrderExpired {
                order_id: btc_order(4),
                filled_qty: dec("0"),
            }),
        ),
        // After both fills: 0.03 BTC at 61837.63, marked at the last trade; fees 1.8551289.
        EventKind::PositionUpdated => btc_pair(
            BTC_TRADE_TS,
            pair,
            EventKind::OrderFilled,
            Event::PositionUpdated(PositionUpdated {
                side: Some(PositionSide::Long),
                qty: dec("0.03000000"),
                avg_entry: dec("61837.63000000"),
                mark: dec("61837.63000000"),
                leverage: dec("1"),
                liquidation_price: None,
                realized_pnl: dec("0"),
                unrealized_pnl: dec("0"),
                fees: dec("1.8551289"),
                funding: dec("0"),
            }),
        ),
        // A long of 1000 XRP pays 0.0001 * 1000 * 1.10725 (mark at 08:00, 1h mark bar open).
        EventKind::FundingPaid => xrp_pair(
            XRP_FUNDING_TS,
            EventKind::FundingRate,
            Event::FundingPaid(FundingPaid {
                rate: dec("0.0001"),
                position_qty: dec("1000"),
                mark: dec("1.10725"),
                amount: dec("-0.110725"),
            }),
        ),
        // 10000 USDT less 0.03 * 61837.63 = 1855.1289 spent and 1.8551289 fees; the position is
        // worth 1855.1289 at the mark, so equity is 10000 - 1.8551289.
        EventKind::EquityUpdated => Envelope::derived(
            BTC_TRADE_TS,
            ActorId::Bot(btc_bot()),
            seq_of(EventKind::PositionUpdated),
            Event::EquityUpdated(EquityUpdated {
                cash: dec("8143.0159711"),
                equity: dec("9998.1448711"),
                realized_pnl: dec("0"),
                unrealized_pnl: dec("0"),
                fees: dec("1.8551289"),
                funding: dec("0"),
                peak_equity: dec("10000"),
                drawdown: dec("0.00018551289"),
            }),
        )
        .with_bot(btc_bot()),
        // A short stopped out by the bar's high.
        EventKind::ForceClose => xrp_pair(
            XRP_BAR_CLOSE,
            EventKind::Bar,
            Event::ForceClose(ForceClose {
                side: PositionSide::Short,
                check: check(
                    RiskRule::StopLoss,
                    "1.1075",
                    "1.1079",
                    "high 1.1079 reached the short's stop at 1.1075",
                ),
            }),
        ),
        EventKind::KillSwitchEngaged => btc_risk(
            BTC_TRADE_TS,
            EventKind::EquityUpdated,
            Event::KillSwitchEngaged(KillSwitchEngaged {
                check: check(
                    RiskRule::DailyLoss,
                    "0.03",
                    "0.0342",
                    "daily loss 3.42% of start-of-day equity, limit 3%",
                ),
                until: BTC_MIDNIGHT,
            }),
        ),
        EventKind::KillSwitchReleased => btc_risk(
            BTC_MIDNIGHT,
            EventKind::KillSwitchEngaged,
            Event::KillSwitchReleased(KillSwitchReleased {
                start_of_day_equity: dec("9998.1448711"),
            }),
        ),
        EventKind::EntriesPaused => btc_risk(
            BTC_TRADE_TS,
            EventKind::EquityUpdated,
            Event::EntriesPaused(EntriesPaused {
                check: check(
                    RiskRule::ConsecutiveLosses,
                    "3",
                    "3",
                    "3 losing trades in a row; entries paused for 1h",
                ),
                until: Some(Timestamp::from_nanos(
                    BTC_TRADE_TS.nanos() + 3_600_000_000_000,
                )),
            }),
        ),
        EventKind::EntriesResumed => btc_risk(
            Timestamp::from_nanos(BTC_TRADE_TS.nanos() + 3_600_000_000_000),
            EventKind::EntriesPaused,
            Event::EntriesResumed(EntriesResumed {
                rule: RiskRule::ConsecutiveLosses,
                reason: "pause expired".into(),
            }),
        ),
        EventKind::RiskWarning => btc_risk(
            BTC_TRADE_TS,
            EventKind::OrderRejected,
            Event::RiskWarning(RiskWarning {
                check: check(
                    RiskRule::ApiErrors,
                    "3",
                    "3",
                    "3 API errors in the last minute; entries halt at 5",
                ),
            }),
        ),
        EventKind::Alert => btc_risk(
            BTC_TRADE_TS,
            EventKind::KillSwitchEngaged,
            Event::Alert(Alert {
                severity: Severity::Critical,
                category: AlertKind::LimitHit,
                message: "btc-spot: daily loss kill switch engaged until 2024-08-09T00:00:00Z"
                    .into(),
            }),
        ),
        EventKind::BotStateChanged => Envelope::derived(
            BTC_TRADE_TS,
            ActorId::Bot(btc_bot()),
            seq_of(EventKind::EntriesPaused),
            Event::BotStateChanged(BotStateChanged {
                state: BotState::Paused,
                reason: "entries paused: consecutive losses".into(),
            }),
        )
        .with_bot(btc_bot()),
        EventKind::OperatorCommand => Envelope::input(
            BTC_TRADE_TS,
            Event::OperatorCommand(OperatorCommand {
                command: Command::CreateBot {
                    config_toml: BOT_CONFIG_TOML.into(),
                },
                operator: "cli".into(),
            }),
        )
        .with_bot(btc_bot()),
        EventKind::DecisionRequested => btc_pair(
            BTC_TRADE_TS,
            pair,
            EventKind::Trade,
            Event::DecisionRequested(DecisionRequested {
                request_id: 1,
                provider: "openai".into(),
                context:
                    r#"{"pair":"BTCUSDT","last":"61837.63","bid":"61837.63","ask":"61837.64"}"#
                        .into(),
            }),
        ),
        EventKind::DecisionMade => Envelope::input(
            BTC_TRADE_TS,
            Event::DecisionMade(DecisionMade {
                request_id: 1,
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
                action: DecisionAction::Hold,
                confidence: Some(dec("0.62")),
                rationale: "Spread is one tick and the last trade hit the bid: no edge.".into(),
                latency_ms: 840,
            }),
        )
        .with_bot(btc_bot())
        .with_pair(btcusdt()),
        // Not real news: a placeholder that says so.
        EventKind::NewsItem => Envelope::input(
            BTC_TRADE_TS,
            Event::NewsItem(NewsItem {
                source: "sample".into(),
                external_id: "sample-0001".into(),
                headline: "Sample headline (not a real news item)".into(),
                body: "An illustrative news item for charon's event samples.".into(),
                url: Some("https://example.com/news/sample-0001".into()),
                published_at: BTC_TRADE_TS,
                symbols: vec![btcusdt()],
                sentiment: Some(dec("0")),
            }),
        ),
        EventKind::ConnectionChanged => Envelope::input(
            BTC_TRADE_TS,
            Event::ConnectionChanged(ConnectionChanged {
                venue: binance_spot(),
                stream: "market".into(),
                state: LinkState::Reconnecting,
                reason: "websocket closed by the server".into(),
            }),
        ),
        // As if the recording's depth update 50093239203..=50093239207 had been missed.
        EventKind::MarketDataGap => Envelope::input(
            BTC_TRADE_TS,
            Event::MarketDataGap(MarketDataGap {
                venue: binance_spot(),
                last_seen_id: 50_093_239_202,
                next_id: 50_093_239_208,
            }),
        )
        .with_pair(btcusdt()),
        // Binance spot errors.md, -1021 INVALID_TIMESTAMP.
        EventKind::ApiError => Envelope::input(
            BTC_TRADE_TS,
            Event::ApiError(ApiError {
                venue: binance_spot(),
                endpoint: "POST /api/v3/order".into(),
                http_status: Some(400),
                code: Some(-1021),
                message: "Timestamp for this request is outside of the recvWindow.".into(),
            }),
        ),
        EventKind::ClockTick => Envelope::input(BTC_MIDNIGHT, Event::ClockTick(ClockTick {})),
        EventKind::RunManifest => Envelope::input(
            BTC_TRADE_TS,
            Event::RunManifest(RunManifest {
                mode: ExecutionMode::Backtest,
                binary_version: "0.1.0".into(),
                config_hash: BOT_CONFIG_SHA256.into(),
                config_toml: BOT_CONFIG_TOML.into(),
                data: Some(DataRange {
                    log_id: LogId(Uuid::from_u128(0x0191_3457_7b8e_7000_8000_0000_0000_0001)),
                    first_seq: seq_of(EventKind::Trade),
                    last_seq: seq_of(EventKind::Bar),
                }),
                seed: 42,
                data_path: Some("/var/lib/charon/data/binance".into()),
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Money;

    #[test]
    fn one_sample_per_kind_in_order() {
        let samples = one_of_each();
        let kinds: Vec<EventKind> = samples.iter().map(|env| env.payload.kind()).collect();
        assert_eq!(
            kinds,
            EventKind::ALL,
            "every kind needs exactly one sample, in ALL order"
        );
        let seqs: Vec<Seq> = samples.iter().map(|env| env.seq).collect();
        assert_eq!(seqs, (1..=EventKind::ALL.len() as Seq).collect::<Vec<_>>());
    }

    #[test]
    fn derived_samples_point_at_an_earlier_cause() {
        for env in one_of_each() {
            match env.origin {
                crate::Origin::Derived(_) => {
                    let cause = env.cause.expect("derived events have a cause");
                    assert!(
                        cause < env.seq,
                        "{} is caused by the later seq {cause}",
                        env.seq
                    );
                }
                crate::Origin::Input => assert_eq!(env.cause, None),
            }
        }
    }

    #[test]
    fn market_samples_keep_binance_decimals() {
        let Event::Trade(trade) = one_of(EventKind::Trade).payload else {
            panic!("not a trade")
        };
        assert_eq!(trade.price.to_string(), "61837.63000000");
        assert_eq!(trade.qty.to_string(), "0.02000000");
    }

    #[test]
    fn illustrative_amounts_add_up() {
        let Event::EquityUpdated(eq) = one_of(EventKind::EquityUpdated).payload else {
            panic!("not an equity update")
        };
        let position = dec::<Money>("0.03").0 * dec::<Money>("61837.63").0;
        assert_eq!(eq.cash.0 + position, eq.equity.0);
        assert_eq!(eq.peak_equity.0 - eq.fees.0, eq.equity.0);
        assert_eq!(
            eq.drawdown.0,
            (eq.peak_equity.0 - eq.equity.0) / eq.peak_equity.0
        );
        let Event::FundingPaid(paid) = one_of(EventKind::FundingPaid).payload else {
            panic!("not a funding payment")
        };
        assert_eq!(
            -paid.amount.0,
            paid.rate.0 * paid.position_qty.0 * paid.mark.0
        );
    }
}
