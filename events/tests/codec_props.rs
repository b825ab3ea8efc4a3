//! Property tests of the codec over every event kind: records and blocks round-trip exactly
//! (scale and sign of every decimal included), a single flipped bit never goes unnoticed, and
//! no input bytes, however damaged, make a decoder panic.
//!
//! `decode_body` takes a hand-written fast path for market payloads; every property that
//! decodes a body also holds it to bincode's derived decoders (`decode_body_reference`).
//!
//! `arb_event_of` matches on `EventKind` without a wildcard, and each enum in a payload is
//! listed through `variants!`, whose exhaustive match fails to compile when a variant is added
//! without a strategy.

use charon_events::codec::{
    decode_body, decode_body_reference, decode_record, encode_body, encode_record, frame,
    BlockReader, BlockWriter,
};
use charon_events::payload::control::*;
use charon_events::payload::external::*;
use charon_events::payload::manifest::*;
use charon_events::payload::market::*;
use charon_events::payload::order::*;
use charon_events::payload::risk::*;
use charon_events::{
    ActorId, BotId, ClientOrderId, Envelope, Event, EventKind, LogId, Money, Num, Origin, Price,
    Quantity, Rate, Seq, Symbol, Timestamp, Venue,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use rust_decimal::Decimal;
use uuid::Uuid;

/// Picks any variant of a fieldless enum; the match in it fails to compile when the enum gains
/// a variant that is not listed.
macro_rules! variants {
    ($ty:ident { $($variant:ident),* $(,)? }) => {{
        #[allow(dead_code)]
        fn every_variant_is_listed(value: $ty) {
            match value {
                $($ty::$variant => {})*
            }
        }
        prop::sample::select(vec![$($ty::$variant),*])
    }};
}

// ---- scalars ------------------------------------------------------------------------------

/// The largest mantissa a `Decimal` holds: 2^96 - 1.
const MAX_MANTISSA: i128 = (1i128 << 96) - 1;

fn arb_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (any::<i64>(), 0u32..=28).prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale)),
        (-MAX_MANTISSA..=MAX_MANTISSA, 0u32..=28).prop_map(|(mantissa, scale)| {
            Decimal::try_from_i128_with_scale(mantissa, scale).expect("mantissa within 96 bits")
        }),
        // Negative zero keeps its sign on the wire too.
        (0u32..=28).prop_map(|scale| Decimal::from_parts(0, 0, 0, true, scale)),
    ]
}

fn arb_price() -> impl Strategy<Value = Price> {
    arb_decimal().prop_map(Price)
}

fn arb_qty() -> impl Strategy<Value = Quantity> {
    arb_decimal().prop_map(Quantity)
}

fn arb_money() -> impl Strategy<Value = Money> {
    arb_decimal().prop_map(Money)
}

fn arb_rate() -> impl Strategy<Value = Rate> {
    arb_decimal().prop_map(Rate)
}

fn arb_num() -> impl Strategy<Value = Num> {
    arb_decimal().prop_map(Num)
}

/// 1..=23 characters from the set names allow.
const NAME_PATTERN: &str = "[A-Za-z0-9._/:-]{1,23}";

fn arb_symbol() -> impl Strategy<Value = Symbol> {
    NAME_PATTERN.prop_map(|name| Symbol::new(&name).expect("pattern yields valid names"))
}

fn arb_bot() -> impl Strategy<Value = BotId> {
    NAME_PATTERN.prop_map(|name| BotId::new(&name).expect("pattern yields valid names"))
}

fn arb_venue() -> impl Strategy<Value = Venue> {
    NAME_PATTERN.prop_map(|name| Venue::new(&name).expect("pattern yields valid names"))
}

fn arb_ts() -> impl Strategy<Value = Timestamp> {
    any::<i64>().prop_map(Timestamp::from_nanos)
}

/// Any unicode text, control characters included.
fn arb_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..40).prop_map(String::from_iter)
}

fn arb_order_id() -> impl Strategy<Value = ClientOrderId> {
    (arb_symbol(), any::<Seq>(), any::<u16>()).prop_map(|(pair, cause, leg)| ClientOrderId {
        pair,
        cause,
        leg,
    })
}

fn arb_actor() -> impl Strategy<Value = ActorId> {
    #[allow(dead_code)]
    fn every_variant_is_listed(value: ActorId) {
        match value {
            ActorId::Journal
            | ActorId::Bot(_)
            | ActorId::Pair(_)
            | ActorId::RiskSupervisor(_)
            | ActorId::Exchange(_) => {}
        }
    }
    prop_oneof![
        Just(ActorId::Journal),
        arb_bot().prop_map(ActorId::Bot),
        arb_symbol().prop_map(ActorId::Pair),
        arb_bot().prop_map(ActorId::RiskSupervisor),
        arb_venue().prop_map(ActorId::Exchange),
    ]
}

fn arb_origin() -> impl Strategy<Value = Origin> {
    prop_oneof![Just(Origin::Input), arb_actor().prop_map(Origin::Derived)]
}

// ---- payload parts ------------------------------------------------------------------------

fn arb_rule() -> impl Strategy<Value = RiskRule> {
    variants!(RiskRule {
        StopLoss,
        TakeProfit,
        TrailingStop,
        BreakEven,
        Chandelier,
        VolatilityExit,
        TimeStop,
        SignalFlip,
        FundingRateGate,
        AtrGate,
        VolumeSpikeGate,
        VolatilityRegimeGate,
        PositionSizeCap,
        PairMaxDrawdown,
        PairOwnership,
        MaxPositionsPerAsset,
        MaxPositionsTotal,
        PerTradeLoss,
        DailyLoss,
        ConsecutiveLosses,
        MaxLeverage,
        MaxSlippage,
        ApiErrors,
        BotTakeProfit,
        BotStopLoss,
        Liquidation,
        Operator,
        BotNotRunning,
    })
}

fn arb_check() -> impl Strategy<Value = RiskCheck> {
    (arb_rule(), arb_num(), arb_num(), arb_text()).prop_map(
        |(rule, threshold, observed, message)| RiskCheck {
            rule,
            threshold,
            observed,
            message,
        },
    )
}

fn arb_signal_action() -> impl Strategy<Value = SignalAction> {
    variants!(SignalAction {
        EnterLong,
        EnterShort,
        ExitLong,
        ExitShort
    })
}

fn arb_position_side() -> impl Strategy<Value = PositionSide> {
    variants!(PositionSide { Long, Short })
}

fn arb_side() -> impl Strategy<Value = Side> {
    variants!(Side { Buy, Sell })
}

fn arb_order_type() -> impl Strategy<Value = OrderType> {
    #[allow(dead_code)]
    fn every_variant_is_listed(value: OrderType) {
        match value {
            OrderType::Market
            | OrderType::Limit { .. }
            | OrderType::StopMarket { .. }
            | OrderType::StopLimit { .. }
            | OrderType::TakeProfitMarket { .. } => {}
        }
    }
    prop_oneof![
        Just(OrderType::Market),
        arb_price().prop_map(|price| OrderType::Limit { price }),
        arb_price().prop_map(|trigger| OrderType::StopMarket { trigger }),
        (arb_price(), arb_price())
            .prop_map(|(trigger, price)| OrderType::StopLimit { trigger, price }),
        arb_price().prop_map(|trigger| OrderType::TakeProfitMarket { trigger }),
    ]
}

fn arb_fill() -> impl Strategy<Value = Fill> {
    (
        arb_order_id(),
        any::<Option<u64>>(),
        arb_side(),
        arb_price(),
        arb_qty(),
        arb_money(),
        variants!(Liquidity { Maker, Taker }),
    )
        .prop_map(
            |(order_id, venue_trade_id, side, price, qty, fee, liquidity)| Fill {
                order_id,
                venue_trade_id,
                side,
                price,
                qty,
                fee,
                liquidity,
            },
        )
}

fn arb_command() -> impl Strategy<Value = Command> {
    #[allow(dead_code)]
    fn every_variant_is_listed(value: Command) {
        match value {
            Command::CreateBot { .. }
            | Command::EditBot { .. }
            | Command::StartBot
            | Command::PauseBot
            | Command::ResumeBot
            | Command::StopBot { .. } => {}
        }
    }
    prop_oneof![
        arb_text().prop_map(|config_toml| Command::CreateBot { config_toml }),
        arb_text().prop_map(|config_toml| Command::EditBot { config_toml }),
        Just(Command::StartBot),
        Just(Command::PauseBot),
        Just(Command::ResumeBot),
        any::<bool>().prop_map(|close_positions| Command::StopBot { close_positions }),
    ]
}

fn arb_data_range() -> impl Strategy<Value = DataRange> {
    (any::<u128>(), any::<Seq>(), any::<Seq>()).prop_map(|(id, first_seq, last_seq)| DataRange {
        log_id: LogId(Uuid::from_u128(id)),
        first_seq,
        last_seq,
    })
}

// ---- events -------------------------------------------------------------------------------

/// Any event of `kind`. No wildcard arm: a new kind must get a strategy here.
fn arb_event_of(kind: EventKind) -> BoxedStrategy<Event> {
    match kind {
        EventKind::Trade => (
            any::<u64>(),
            arb_price(),
            arb_qty(),
            variants!(Aggressor {
                Buyer,
                Seller,
                Unknown
            }),
        )
            .prop_map(|(trade_id, price, qty, aggressor)| {
                Event::Trade(Trade {
                    trade_id,
                    price,
                    qty,
                    aggressor,
                })
            })
            .boxed(),
        EventKind::BookTicker => (any::<u64>(), arb_price(), arb_qty(), arb_price(), arb_qty())
            .prop_map(|(update_id, bid, bid_qty, ask, ask_qty)| {
                Event::BookTicker(BookTicker {
                    update_id,
                    bid,
                    bid_qty,
                    ask,
                    ask_qty,
                })
            })
            .boxed(),
        EventKind::Bar => (
            any::<u32>(),
            arb_ts(),
            (arb_price(), arb_price(), arb_price(), arb_price()),
            arb_qty(),
            any::<Option<u64>>(),
            any::<bool>(),
        )
            .prop_map(
                |(interval, open_time, (open, high, low, close), volume, trades, closed)| {
                    Event::Bar(Bar {
                        interval: Interval(interval),
                        open_time,
                        open,
                        high,
                        low,
                        close,
                        volume,
                        trades,
                        closed,
                    })
                },
            )
            .boxed(),
        EventKind::FundingRate => (arb_rate(), arb_ts())
            .prop_map(|(rate, funding_time)| Event::FundingRate(FundingRate { rate, funding_time }))
            .boxed(),
        EventKind::MarkPrice => (
            arb_price(),
            prop::option::of(arb_price()),
            prop::option::of(arb_rate()),
            prop::option::of(arb_ts()),
        )
            .prop_map(|(mark, index, funding_rate, next_funding_time)| {
                Event::MarkPrice(MarkPrice {
                    mark,
                    index,
                    funding_rate,
                    next_funding_time,
                })
            })
            .boxed(),
        EventKind::Signal => (
            arb_signal_action(),
            variants!(SignalSource { Strategy, Ai, News }),
            arb_text(),
        )
            .prop_map(|(action, source, rule)| {
                Event::Signal(Signal {
                    action,
                    source,
                    rule,
                })
            })
            .boxed(),
        EventKind::SignalBlocked => (arb_signal_action(), arb_check())
            .prop_map(|(action, check)| Event::SignalBlocked(SignalBlocked { action, check }))
            .boxed(),
        EventKind::OrderIntent => (
            (arb_order_id(), arb_side(), arb_order_type()),
            variants!(TimeInForce {
                Gtc,
                Ioc,
                Fok,
                PostOnly
            }),
            (arb_qty(), arb_price(), arb_rate()),
            any::<bool>(),
            variants!(OrderPurpose {
                Entry,
                AddOn,
                Exit,
                ForceClose
            }),
            arb_text(),
        )
            .prop_map(
                |(
                    (order_id, side, order_type),
                    time_in_force,
                    (qty, expected_price, leverage),
                    reduce_only,
                    purpose,
                    reason,
                )| {
                    Event::OrderIntent(OrderIntent {
                        order_id,
                        side,
                        order_type,
                        time_in_force,
                        qty,
                        expected_price,
                        leverage,
                        reduce_only,
                        purpose,
                        reason,
                    })
                },
            )
            .boxed(),
        EventKind::OrderApproved => (arb_order_id(), arb_qty())
            .prop_map(|(order_id, qty)| Event::OrderApproved(OrderApproved { order_id, qty }))
            .boxed(),
        EventKind::OrderVetoed => (arb_order_id(), arb_check())
            .prop_map(|(order_id, check)| Event::OrderVetoed(OrderVetoed { order_id, check }))
            .boxed(),
        EventKind::OrderSubmitted => arb_order_id()
            .prop_map(|order_id| Event::OrderSubmitted(OrderSubmitted { order_id }))
            .boxed(),
        EventKind::OrderAccepted => (arb_order_id(), arb_text())
            .prop_map(|(order_id, venue_order_id)| {
                Event::OrderAccepted(OrderAccepted {
                    order_id,
                    venue_order_id,
                })
            })
            .boxed(),
        EventKind::OrderRejected => (arb_order_id(), any::<Option<i64>>(), arb_text())
            .prop_map(|(order_id, code, reason)| {
                Event::OrderRejected(OrderRejected {
                    order_id,
                    code,
                    reason,
                })
            })
            .boxed(),
        EventKind::OrderPartiallyFilled => (arb_fill(), arb_qty(), arb_qty())
            .prop_map(|(fill, cum_qty, leaves_qty)| {
                Event::OrderPartiallyFilled(OrderPartiallyFilled {
                    fill,
                    cum_qty,
                    leaves_qty,
                })
            })
            .boxed(),
        EventKind::OrderFilled => (arb_fill(), arb_qty(), arb_price())
            .prop_map(|(fill, cum_qty, avg_price)| {
                Event::OrderFilled(OrderFilled {
                    fill,
                    cum_qty,
                    avg_price,
                })
            })
            .boxed(),
        EventKind::CancelRequested => (arb_order_id(), arb_text())
            .prop_map(|(order_id, reason)| {
                Event::CancelRequested(CancelRequested { order_id, reason })
            })
            .boxed(),
        EventKind::OrderCanceled => (arb_order_id(), arb_qty())
            .prop_map(|(order_id, filled_qty)| {
                Event::OrderCanceled(OrderCanceled {
                    order_id,
                    filled_qty,
                })
            })
            .boxed(),
        EventKind::OrderExpired => (arb_order_id(), arb_qty())
            .prop_map(|(order_id, filled_qty)| {
                Event::OrderExpired(OrderExpired {
                    order_id,
                    filled_qty,
                })
            })
            .boxed(),
        EventKind::PositionUpdated => (
            prop::option::of(arb_position_side()),
            (arb_qty(), arb_price(), arb_price(), arb_rate()),
            prop::option::of(arb_price()),
            (arb_money(), arb_money(), arb_money(), arb_money()),
        )
            .prop_map(
                |(
                    side,
                    (qty, avg_entry, mark, leverage),
                    liquidation_price,
                    (realized_pnl, unrealized_pnl, fees, funding),
                )| {
                    Event::PositionUpdated(PositionUpdated {
                        side,
                        qty,
                        avg_entry,
                        mark,
                        leverage,
                        liquidation_price,
                        realized_pnl,
                        unrealized_pnl,
                        fees,
                        funding,
                    })
                },
            )
            .boxed(),
        EventKind::FundingPaid => (arb_rate(), arb_qty(), arb_price(), arb_money())
            .prop_map(|(rate, position_qty, mark, amount)| {
                Event::FundingPaid(FundingPaid {
                    rate,
                    position_qty,
                    mark,
                    amount,
                })
            })
            .boxed(),
        EventKind::EquityUpdated => (
            (arb_money(), arb_money(), arb_money(), arb_money()),
            (arb_money(), arb_money(), arb_money()),
            arb_rate(),
        )
            .prop_map(
                |(
                    (cash, equity, realized_pnl, unrealized_pnl),
                    (fees, funding, peak_equity),
                    drawdown,
                )| {
                    Event::EquityUpdated(EquityUpdated {
                        cash,
                        equity,
                        realized_pnl,
                        unrealized_pnl,
                        fees,
                        funding,
                        peak_equity,
                        drawdown,
                    })
                },
            )
            .boxed(),
        EventKind::ForceClose => (arb_position_side(), arb_check())
            .prop_map(|(side, check)| Event::ForceClose(ForceClose { side, check }))
            .boxed(),
        EventKind::KillSwitchEngaged => (arb_check(), arb_ts())
            .prop_map(|(check, until)| Event::KillSwitchEngaged(KillSwitchEngaged { check, until }))
            .boxed(),
        EventKind::KillSwitchReleased => arb_money()
            .prop_map(|start_of_day_equity| {
                Event::KillSwitchReleased(KillSwitchReleased {
                    start_of_day_equity,
                })
            })
            .boxed(),
        EventKind::EntriesPaused => (arb_check(), prop::option::of(arb_ts()))
            .prop_map(|(check, until)| Event::EntriesPaused(EntriesPaused { check, until }))
            .boxed(),
        EventKind::EntriesResumed => (arb_rule(), arb_text())
            .prop_map(|(rule, reason)| Event::EntriesResumed(EntriesResumed { rule, reason }))
            .boxed(),
        EventKind::RiskWarning => arb_check()
            .prop_map(|check| Event::RiskWarning(RiskWarning { check }))
            .boxed(),
        EventKind::Alert => (
            variants!(Severity {
                Info,
                Warning,
                Critical
            }),
            variants!(AlertKind {
                OutsizedLoss,
                OrderFailed,
                LimitHit,
                Slippage,
                Connectivity,
                BotStateChange,
            }),
            arb_text(),
        )
            .prop_map(|(severity, category, message)| {
                Event::Alert(Alert {
                    severity,
                    category,
                    message,
                })
            })
            .boxed(),
        EventKind::BotStateChanged => (
            variants!(BotState {
                Created,
                Running,
                Paused,
                Stopping,
                Stopped
            }),
            arb_text(),
        )
            .prop_map(|(state, reason)| Event::BotStateChanged(BotStateChanged { state, reason }))
            .boxed(),
        EventKind::OperatorCommand => (arb_command(), arb_text())
            .prop_map(|(command, operator)| {
                Event::OperatorCommand(OperatorCommand { command, operator })
            })
            .boxed(),
        EventKind::DecisionRequested => (any::<u64>(), arb_text(), arb_text())
            .prop_map(|(request_id, provider, context)| {
                Event::DecisionRequested(DecisionRequested {
                    request_id,
                    provider,
                    context,
                })
            })
            .boxed(),
        EventKind::DecisionMade => (
            any::<u64>(),
            (arb_text(), arb_text()),
            variants!(DecisionAction {
                EnterLong,
                EnterShort,
                Exit,
                Hold
            }),
            prop::option::of(arb_rate()),
            arb_text(),
            any::<u32>(),
        )
            .prop_map(
                |(request_id, (provider, model), action, confidence, rationale, latency_ms)| {
                    Event::DecisionMade(DecisionMade {
                        request_id,
                        provider,
                        model,
                        action,
                        confidence,
                        rationale,
                        latency_ms,
                    })
                },
            )
            .boxed(),
        EventKind::NewsItem => (
            (arb_text(), arb_text(), arb_text(), arb_text()),
            prop::option::of(arb_text()),
            arb_ts(),
            prop::collection::vec(arb_symbol(), 0..5),
            prop::option::of(arb_rate()),
        )
            .prop_map(
                |((source, external_id, headline, body), url, published_at, symbols, sentiment)| {
                    Event::NewsItem(NewsItem {
                        source,
                        external_id,
                        headline,
                        body,
                        url,
                        published_at,
                        symbols,
                        sentiment,
                    })
                },
            )
            .boxed(),
        EventKind::ConnectionChanged => (
            arb_venue(),
            arb_text(),
            variants!(LinkState {
                Connected,
                Disconnected,
                Reconnecting
            }),
            arb_text(),
        )
            .prop_map(|(venue, stream, state, reason)| {
                Event::ConnectionChanged(ConnectionChanged {
                    venue,
                    stream,
                    state,
                    reason,
                })
            })
            .boxed(),
        EventKind::MarketDataGap => (arb_venue(), any::<u64>(), any::<u64>())
            .prop_map(|(venue, last_seen_id, next_id)| {
                Event::MarketDataGap(MarketDataGap {
                    venue,
                    last_seen_id,
                    next_id,
                })
            })
            .boxed(),
        EventKind::ApiError => (
            arb_venue(),
            arb_text(),
            any::<Option<u16>>(),
            any::<Option<i64>>(),
            arb_text(),
        )
            .prop_map(|(venue, endpoint, http_status, code, message)| {
                Event::ApiError(ApiError {
                    venue,
                    endpoint,
                    http_status,
                    code,
                    message,
                })
            })
            .boxed(),
        EventKind::ClockTick => Just(Event::ClockTick(ClockTick {})).boxed(),
        EventKind::RunManifest => (
            variants!(ExecutionMode {
                Backtest,
                Paper,
                Live
            }),
            (arb_text(), arb_text(), arb_text()),
            prop::option::of(arb_data_range()),
            any::<u64>(),
            prop::option::of(arb_text()),
        )
            .prop_map(
                |(mode, (binary_version, config_hash, config_toml), data, seed, data_path)| {
                    Event::RunManifest(RunManifest {
                        mode,
                        binary_version,
                        config_hash,
                        config_toml,
                        data,
                        seed,
                        data_path,
                    })
                },
            )
            .boxed(),
    }
}

/// The kinds `decode_body` decodes by hand rather than through bincode.
const FAST_PATH_KINDS: &[EventKind] = &[
    EventKind::Trade,
    EventKind::BookTicker,
    EventKind::Bar,
    EventKind::FundingRate,
    EventKind::MarkPrice,
];

/// Any envelope: any seq, origin, cause, routing keys and payload.
fn arb_envelope() -> impl Strategy<Value = Envelope> {
    arb_envelope_of(EventKind::ALL)
}

/// Any envelope whose payload is one of `kinds`.
fn arb_envelope_of(kinds: &'static [EventKind]) -> impl Strategy<Value = Envelope> {
    (
        any::<Seq>(),
        arb_ts(),
        arb_origin(),
        any::<Option<Seq>>(),
        prop::option::of(arb_bot()),
        prop::option::of(arb_symbol()),
        prop::sample::select(kinds).prop_flat_map(arb_event_of),
    )
        .prop_map(|(seq, ts, origin, cause, bot, pair, payload)| Envelope {
            seq,
            ts,
            origin,
            cause,
            bot,
            pair,
            payload,
        })
}

/// Decodes `body` both ways: the fast path accepts exactly what bincode's derived decoders
/// accept, and reads it identically.
fn assert_decoders_agree(seq: Seq, body: &[u8]) {
    let fast = decode_body(seq, body);
    match decode_body_reference(seq, body) {
        Ok(expected) => {
            assert_eq!(
                fast,
                Ok(expected.clone()),
                "fast path disagrees with bincode"
            );
            let again = encode_record(&expected).expect("a decoded envelope encodes");
            assert_eq!(encode_record(&fast.unwrap()).unwrap(), again);
        }
        Err(reference) => assert!(
            fast.is_err(),
            "fast path accepts what bincode refuses ({reference}): {fast:?}"
        ),
    }
}

/// Runs every decoder over `bytes` as if stored under `seq`; a panic or a disagreement between
/// the body decoders fails.
fn decode_everything(seq: Seq, bytes: &[u8]) {
    let _ = decode_record(seq, bytes);
    assert_decoders_agree(seq, bytes);
    if let Ok(reader) = BlockReader::open(seq, bytes) {
        for (at, body) in reader.bodies().flatten() {
            assert_decoders_agree(at, body);
        }
        let _ = reader.get(seq);
        let _ = reader.get(seq.wrapping_add(1));
    }
}

// ---- properties ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) A record decodes to the very envelope it was made from, and re-encodes to the same
    /// bytes (so no decimal lost its scale or sign: `Decimal` equality would not notice).
    #[test]
    fn record_round_trips(env in arb_envelope()) {
        let bytes = encode_record(&env).unwrap();
        let back = decode_record(env.seq, &bytes).unwrap();
        prop_assert_eq!(&back, &env);
        prop_assert_eq!(&encode_record(&back).unwrap(), &bytes);
        prop_assert_eq!(decode_body_reference(env.seq, &bytes[5..]).unwrap(), back);
    }

    /// (b) A block of consecutive envelopes reads back identically, in order and one by one.
    #[test]
    fn block_round_trips(
        first_seq in 0..Seq::MAX - 16,
        envs in prop::collection::vec(arb_envelope(), 1..16),
    ) {
        let envs: Vec<Envelope> = envs
            .into_iter()
            .zip(first_seq..)
            .map(|(env, seq)| Envelope { seq, ..env })
            .collect();
        let mut writer = BlockWriter::new(first_seq);
        for env in &envs {
            writer.push(env).unwrap();
        }
        let bytes = writer.encode();
        let reader = BlockReader::open(first_seq, &bytes).unwrap();
        prop_assert_eq!(reader.count() as usize, envs.len());
        let mut decoded = Vec::new();
        for item in reader.bodies() {
            let (seq, body) = item.unwrap();
            decoded.push(decode_body(seq, body).unwrap());
        }
        prop_assert_eq!(&decoded, &envs);
        for env in &envs {
            let got = reader.get(env.seq).unwrap();
            prop_assert_eq!(encode_record(&got).unwrap(), encode_record(env).unwrap());
        }
        prop_assert!(reader.get(first_seq + envs.len() as Seq).is_err());
    }

    /// (d) Random bytes, framed or not, never make a decoder panic, and the two body decoders
    /// read them alike.
    #[test]
    fn random_bytes_never_panic(
        seq in any::<Seq>(),
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        decode_everything(seq, &bytes);
        decode_everything(seq, &frame(seq, &bytes));
    }

    /// (d) Nor do valid bodies with a few bytes overwritten, inside a valid frame: the
    /// closest a damaged record can get to the payload decoders (the fast path's kinds get
    /// half the cases).
    #[test]
    fn damaged_bodies_never_panic(
        env in prop_oneof![arb_envelope(), arb_envelope_of(FAST_PATH_KINDS)],
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut body = Vec::new();
        encode_body(&env, &mut body).unwrap();
        for (at, byte) in damage {
            let at = at.index(body.len());
            body[at] = byte;
        }
        decode_everything(env.seq, &frame(env.seq, &body));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// (c) Flipping any one bit of a record makes it unreadable.
    #[test]
    fn any_flipped_bit_is_detected(
        (env, bytes, bit) in arb_envelope().prop_flat_map(|env| {
            let bytes = encode_record(&env).unwrap();
            let bits = bytes.len() * 8;
            (Just(env), Just(bytes), 0..bits)
        })
    ) {
        let mut damaged = bytes;
        damaged[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(
            decode_record(env.seq, &damaged).is_err(),
            "flipping bit {} went unnoticed", bit
        );
    }
}

/// Every kind has a strategy, it yields that kind, and what it yields round-trips, however
/// the random selection of the properties above falls.
#[test]
fn every_kind_has_a_strategy() {
    let mut runner = TestRunner::deterministic();
    for &kind in EventKind::ALL {
        let strategy = arb_event_of(kind);
        for _ in 0..16 {
            let payload = strategy.new_tree(&mut runner).unwrap().current();
            assert_eq!(payload.kind(), kind);
            let env = Envelope::input(Timestamp::from_nanos(1), payload)
                .with_pair(Symbol::new("BTCUSDT").unwrap());
            let env = Envelope { seq: 7, ..env };
            let bytes = encode_record(&env).unwrap();
            assert_eq!(
                decode_record(7, &bytes).unwrap(),
                env,
                "{kind} does not round-trip"
            );
        }
    }
}
