//! `compute` over hand-made histories: a bot and its pairs, windows, buy-and-hold, the
//! risk-free rate; and properties that hold for any history (bounded drawdown, a window over
//! the whole run equals no window, windows split trades and costs exactly, no NaN).

use super::*;
use crate::report::history::{CurvePoint, Totals, TradeExit};
use charon_events::payload::order::PositionSide;
use charon_events::{Price, Quantity};
use proptest::prelude::*;
use returns::DAY_NS;
use testing::{curve, d, t};

const HOUR: i64 = 3_600_000_000_000;

fn prices(values: &[(i64, &str)]) -> Vec<PricePoint> {
    values
        .iter()
        .map(|&(ns, price)| PricePoint {
            ts: t(ns),
            price: Price(d(price)),
        })
        .collect()
}

fn totals(ns: i64, realized: &str, fees: &str) -> TotalsPoint {
    TotalsPoint {
        ts: t(ns),
        totals: Totals {
            realized_pnl: Money(d(realized)),
            fees: Money(d(fees)),
            funding: Money::ZERO,
        },
    }
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn eth() -> Symbol {
    Symbol::new("ETHUSDT").unwrap()
}

/// A bot with 1000 of capital over exactly three UTC days:
///
/// - equity 1100 at 12:00 on day 0 and at midnight, 990 at 06:00 on day 1, 1045 at 12:00 on
///   day 2; all of it BTCUSDT's contribution;
/// - one BTCUSDT trade from 06:00 on day 0 to 06:00 on day 1 (gross −8, fees 2, on 1000), and
///   one open since 06:00 on day 2 (fee 1);
/// - BTCUSDT from 100 to 110, ETHUSDT (which never traded) from 200 to 190.
fn history() -> RunHistory {
    let bot = BotId::new("b").unwrap();
    let closed = ClosedTrade {
        bot,
        pair: btc(),
        side: PositionSide::Long,
        opened_at: t(6 * HOUR),
        closed_at: t(DAY_NS + 6 * HOUR),
        duration_ns: DAY_NS,
        entry_price: Price(d("100")),
        exit_price: Some(Price(d("99.2"))),
        max_qty: Quantity(d("10")),
        entry_notional: Money(d("1000")),
        realized_pnl: Money(d("-8")),
        fees: Money(d("2")),
        funding: Money::ZERO,
        net_pnl: Money(d("-10")),
        return_pct: Some(d("-1")),
        gross_return_pct: Some(d("-0.8")),
        exit: TradeExit::default(),
    };
    let open = OpenTrade {
        bot,
        pair: btc(),
        side: PositionSide::Long,
        opened_at: t(2 * DAY_NS + 6 * HOUR),
        entry_price: Price(d("100")),
        qty: Quantity(d("1")),
        max_qty: Quantity(d("1")),
        realized_pnl: Money::ZERO,
        fees: Money(d("1")),
        funding: Money::ZERO,
        net_pnl: Money(d("-1")),
        unrealized_pnl: Money(d("56")),
    };
    let trading_totals = vec![
        totals(6 * HOUR, "0", "1"),
        totals(DAY_NS + 6 * HOUR, "-8", "2"),
        totals(2 * DAY_NS + 6 * HOUR, "-8", "3"),
    ];
    RunHistory {
        first_ts: Some(t(0)),
        last_ts: Some(t(3 * DAY_NS)),
        bots: vec![BotHistory {
            bot,
            initial_capital: Money(d("1000")),
            equity_curve: curve(&[
                (12 * HOUR, "1100"),
                (DAY_NS, "1100"),
                (DAY_NS + 6 * HOUR, "990"),
                (2 * DAY_NS + 12 * HOUR, "1045"),
            ]),
            totals: trading_totals.clone(),
            closed_trades: vec![closed],
            open_trades: vec![open],
            pairs: vec![
                PairHistory {
                    pair: btc(),
                    contribution_curve: curve(&[
                        (12 * HOUR, "100"),
                        (DAY_NS + 6 * HOUR, "-10"),
                        (2 * DAY_NS + 12 * HOUR, "45"),
                    ]),
                    totals: trading_totals,
                    prices: prices(&[(0, "100"), (3 * DAY_NS, "110")]),
                },
                PairHistory {
                    pair: eth(),
                    contribution_curve: Vec::new(),
                    totals: Vec::new(),
                    prices: prices(&[(0, "200"), (3 * DAY_NS, "190")]),
                },
            ],
        }],
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn a_bot_and_its_pairs_over_the_whole_run() {
    let stats = compute(&history(), Window::ALL, &Settings::default());
    assert_eq!(
        stats.period,
        Period {
            start: t(0),
            end: t(3 * DAY_NS)
        }
    );
    let bot = &stats.bots[0].statistics;
    let r = &bot.returns;
    assert_eq!(
        (r.start_equity, r.end_equity),
        (Money(d("1000")), Money(d("1045")))
    );
    assert_eq!(r.pnl, Money(d("45")));
    assert_eq!(r.total_return_pct, Some(d("4.5")));
    // Day ends: 1100 (day 0), 990 (day 1), 1045 (day 2): returns 0.1, −0.1, 1045/990 − 1.
    assert_eq!(r.days, 3);
    let daily = [0.1, -0.1, 1045.0 / 990.0 - 1.0];
    // mean = 0.0555… / 3 = 0.0185185…; sample std over n − 1 = 2.
    let mean = daily.iter().sum::<f64>() / 3.0;
    let std = (daily.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    assert!((std - 0.105_018).abs() < 1e-6, "{std}");
    assert!(close(
        r.volatility_pct.unwrap(),
        std * 365f64.sqrt() * 100.0
    ));
    assert!(close(r.sharpe.unwrap(), mean / std * 365f64.sqrt()));
    assert!((r.sharpe.unwrap() - 3.3689).abs() < 1e-3, "{:?}", r.sharpe);
    // Downside: only −0.1 is below 0: sqrt(0.01 / 3).
    assert!(close(
        r.sortino.unwrap(),
        mean / (0.01f64 / 3.0).sqrt() * 365f64.sqrt()
    ));
    // CAGR over 3 days: 1.045^(365/3) − 1; Calmar divides it by the 10% drawdown.
    let cagr = 1.045f64.powf(365.0 / 3.0) - 1.0;
    assert!(close(r.cagr_pct.unwrap(), cagr * 100.0));
    assert!(close(r.calmar.unwrap(), cagr / 0.1));

    // 1100 → 990: 10%, from the last point at the peak (midnight of day 1), never recovered.
    let dd = &bot.drawdown;
    assert_eq!((dd.max_pct, dd.episodes), (d("10"), 1));
    assert_eq!(dd.max_duration_ns, 2 * DAY_NS);
    assert_eq!(dd.deepest[0].peak_at, t(DAY_NS));

    assert_eq!(bot.trades.trades, 1);
    assert_eq!(bot.trades.net_pnl, Money(d("-10")));
    // One trade, a loss: Σwins / |Σlosses| = 0 / 10.
    assert_eq!(bot.trades.profit_factor, Some(Decimal::ZERO));
    // Open 06:00 day 0 → 06:00 day 1 (24 h) and 06:00 day 2 → the end (18 h): 42 / 72.
    assert_eq!(bot.exposure_pct, Some(d("58.3333")));
    assert_eq!((bot.fees, bot.funding), (Money(d("3")), Money::ZERO));
    // BTCUSDT +10%, ETHUSDT −5%: the bot holds both equally, +2.5%.
    assert_eq!(bot.buy_and_hold_pct, Some(d("2.5")));

    let pairs = &stats.bots[0].pairs;
    let (btc_stats, eth_stats) = (&pairs[0].statistics, &pairs[1].statistics);
    assert_eq!((pairs[0].pair, pairs[1].pair), (btc(), eth()));
    // BTCUSDT carried all of the bot's P&L: the same curve, so the same ratios.
    assert_eq!(btc_stats.returns, bot.returns);
    assert_eq!(btc_stats.buy_and_hold_pct, Some(d("10")));
    assert_eq!(btc_stats.exposure_pct, bot.exposure_pct);
    // ETHUSDT never moved the equity: flat at the capital, nothing to divide by.
    let flat = &eth_stats.returns;
    assert_eq!(flat.total_return_pct, Some(Decimal::ZERO));
    assert_eq!((flat.sharpe, flat.sortino, flat.calmar), (None, None, None));
    assert_eq!(flat.volatility_pct, Some(0.0));
    assert_eq!(flat.cagr_pct, Some(0.0));
    assert_eq!(eth_stats.trades.trades, 0);
    assert_eq!(eth_stats.exposure_pct, Some(Decimal::ZERO));
    assert_eq!(eth_stats.buy_and_hold_pct, Some(d("-5")));
}

#[test]
fn a_window_starts_from_the_equity_before_it() {
    let window = Window::new(Some(t(DAY_NS)), None).unwrap();
    let stats = compute(&history(), window, &Settings::default());
    let bot = &stats.bots[0].statistics;
    // Starts from 1100 (12:00 on day 0; the point at midnight is inside the window).
    assert_eq!(bot.returns.start_equity, Money(d("1100")));
    assert_eq!(bot.returns.total_return_pct, Some(d("-5")));
    assert_eq!(bot.returns.days, 2);
    assert_eq!(bot.drawdown.max_pct, d("10"));
    assert_eq!(bot.trades.trades, 1, "closed at 06:00 on day 1");
    // Fees 3 − 1 paid before the window.
    assert_eq!(bot.fees, Money(d("2")));
    // Exposure: 6 h of day 1 and the last 18 h of 48 h.
    assert_eq!(bot.exposure_pct, Some(d("50")));

    // Up to 03:00 on day 1: the trade is still open then, and counts for its time only.
    let early = Window::new(None, Some(t(DAY_NS + 3 * HOUR))).unwrap();
    let stats = compute(&history(), early, &Settings::default());
    let bot = &stats.bots[0].statistics;
    assert_eq!(stats.period.end, t(DAY_NS + 3 * HOUR));
    assert_eq!(bot.trades.trades, 0);
    // 06:00 → 27:00 of 27 h.
    assert_eq!(bot.exposure_pct, Some(d("77.7778")));
    assert_eq!(bot.returns.end_equity, Money(d("1100")));
    assert_eq!(bot.fees, Money(d("1")));
    // Prices at hour resolution: no BTCUSDT price after 0 inside the window, so the hold
    // starts and ends at 100.
    assert_eq!(
        stats.bots[0].pairs[0].statistics.buy_and_hold_pct,
        Some(d("0"))
    );
}

#[test]
fn windows_are_checked_and_clipped_to_the_run() {
    assert_eq!(
        Window::new(Some(t(5)), Some(t(4))),
        Err(StatisticsError::WindowReversed {
            from: t(5),
            to: t(4)
        })
    );
    let wide = Window::new(Some(t(-DAY_NS)), Some(t(9 * DAY_NS))).unwrap();
    assert_eq!(
        compute(&history(), wide, &Settings::default()),
        compute(&history(), Window::ALL, &Settings::default())
    );
    let empty = RunHistory {
        first_ts: None,
        last_ts: None,
        bots: Vec::new(),
    };
    assert_eq!(Window::ALL.period(&empty).span_ns(), 0);
}

#[test]
fn growth_too_large_to_annualize_has_no_cagr_and_no_calmar() {
    // 38605 → 67821.54 in 7 hours: 1.7568^(365 × 24 / 7) overflows once in percent.
    let history = random_history(38605, &[(7, 6_782_154)]);
    let stats = compute(&history, Window::ALL, &Settings::default());
    let r = &stats.bots[0].statistics.returns;
    assert_eq!((r.cagr_pct, r.calmar), (None, None));
    assert_eq!(r.total_return_pct, Some(d("75.6807")));
}

#[test]
fn the_risk_free_rate_lowers_sharpe_and_sortino_only() {
    let base = compute(&history(), Window::ALL, &Settings::default());
    let settings = Settings::with_risk_free_rate_pct(d("5")).unwrap();
    let with_rf = compute(&history(), Window::ALL, &settings);
    let (a, b) = (
        &base.bots[0].statistics.returns,
        &with_rf.bots[0].statistics.returns,
    );
    let rf = 1.05f64.powf(1.0 / 365.0) - 1.0;
    let daily = [0.1, -0.1, 1045.0 / 990.0 - 1.0];
    let excess: Vec<f64> = daily.iter().map(|r| r - rf).collect();
    let mean = excess.iter().sum::<f64>() / 3.0;
    let std = (excess.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    assert!(close(b.sharpe.unwrap(), mean / std * 365f64.sqrt()));
    assert!(b.sharpe < a.sharpe && b.sortino < a.sortino);
    assert_eq!(
        (a.cagr_pct, a.volatility_pct),
        (b.cagr_pct, b.volatility_pct)
    );
    assert_eq!(
        Settings::with_risk_free_rate_pct(d("-100")),
        Err(StatisticsError::RiskFreeRate(d("-100")))
    );
}

/// A history of one bot and pair from a random walk: equity points an hour or more apart, a
/// trade between every other pair of points, fees on each.
fn random_history(capital: i64, steps: &[(i64, i64)]) -> RunHistory {
    let bot = BotId::new("b").unwrap();
    let mut curve = Vec::new();
    let mut trades = Vec::new();
    let mut totals_points = Vec::new();
    let (mut now, mut realized, mut fees) = (0i64, Decimal::ZERO, Decimal::ZERO);
    for (i, &(gap_hours, cents)) in steps.iter().enumerate() {
        let opened = t(now);
        now += gap_hours * HOUR;
        curve.push(CurvePoint {
            ts: t(now),
            value: Money(Decimal::new(cents, 2)),
        });
        if i % 2 == 1 {
            let gross = Decimal::new(cents - capital * 100, 2);
            realized += gross;
            fees += Decimal::ONE;
            totals_points.push(TotalsPoint {
                ts: t(now),
                totals: Totals {
                    realized_pnl: Money(realized),
                    fees: Money(fees),
                    funding: Money::ZERO,
                },
            });
            trades.push(ClosedTrade {
                bot,
                pair: btc(),
                side: PositionSide::Long,
                opened_at: opened,
                closed_at: t(now),
                duration_ns: now - opened.nanos(),
                entry_price: Price(Decimal::ONE_HUNDRED),
                exit_price: None,
                max_qty: Quantity(Decimal::ONE),
                entry_notional: Money(Decimal::ONE_HUNDRED),
                realized_pnl: Money(gross),
                fees: Money(Decimal::ONE),
                funding: Money::ZERO,
                net_pnl: Money(gross - Decimal::ONE),
                return_pct: None,
                gross_return_pct: None,
                exit: TradeExit::default(),
            });
        }
    }
    RunHistory {
        first_ts: Some(t(0)),
        last_ts: Some(t(now)),
        bots: vec![BotHistory {
            bot,
            initial_capital: Money(Decimal::new(capital, 0)),
            equity_curve: curve.clone(),
            totals: totals_points.clone(),
            closed_trades: trades,
            open_trades: Vec::new(),
            pairs: vec![PairHistory {
                pair: btc(),
                contribution_curve: curve
                    .iter()
                    .map(|p| CurvePoint {
                        ts: p.ts,
                        value: Money(p.value.0 - Decimal::new(capital, 0)),
                    })
                    .collect(),
                totals: totals_points,
                prices: Vec::new(),
            }],
        }],
    }
}

fn finite_or_none(value: Option<f64>) -> bool {
    value.is_none_or(f64::is_finite)
}

proptest! {
    #[test]
    fn drawdown_stays_in_0_100_and_ratios_are_never_nan(
        capital in 1i64..100_000,
        steps in prop::collection::vec((1i64..60, 0i64..20_000_000), 0..60),
    ) {
        let history = random_history(capital, &steps);
        let stats = compute(&history, Window::ALL, &Settings::default());
        for s in std::iter::once(&stats.bots[0].statistics)
            .chain(stats.bots[0].pairs.iter().map(|p| &p.statistics))
        {
            let dd = s.drawdown.max_pct;
            prop_assert!(dd >= Decimal::ZERO && dd <= Decimal::ONE_HUNDRED, "{dd}");
            prop_assert!(s.drawdown.average_pct.is_none_or(|avg| avg <= dd));
            let r = &s.returns;
            for ratio in [r.cagr_pct, r.volatility_pct, r.sharpe, r.sortino, r.calmar] {
                prop_assert!(finite_or_none(ratio));
            }
            prop_assert!(s.exposure_pct.is_none_or(|e| e >= Decimal::ZERO && e <= Decimal::ONE_HUNDRED));
        }
        // What JSON gets never holds a NaN (serde_json writes it as null).
        let json = serde_json::to_string(&stats).unwrap();
        prop_assert!(!json.contains("NaN") && !json.contains("inf"));
    }

    #[test]
    fn a_window_over_the_whole_run_is_no_window(
        capital in 1i64..100_000,
        steps in prop::collection::vec((1i64..60, 0i64..20_000_000), 1..40),
    ) {
        let history = random_history(capital, &steps);
        let whole = Window::new(history.first_ts, history.last_ts).unwrap();
        let settings = Settings::with_risk_free_rate_pct(d("3")).unwrap();
        prop_assert_eq!(
            compute(&history, whole, &settings),
            compute(&history, Window::ALL, &settings)
        );
    }

    #[test]
    fn two_adjacent_windows_split_trades_fees_and_pnl_exactly(
        capital in 1i64..100_000,
        steps in prop::collection::vec((1i64..60, 0i64..20_000_000), 1..40),
        cut in 0.0f64..1.0,
    ) {
        let history = random_history(capital, &steps);
        let end = history.last_ts.unwrap().nanos();
        let middle = (end as f64 * cut) as i64;
        let settings = Settings::default();
        let all = &compute(&history, Window::ALL, &settings).bots[0].statistics;
        let early = Window::new(None, Some(t(middle))).unwrap();
        let late = Window::new(Some(t(middle + 1)), None).unwrap();
        let a = &compute(&history, early, &settings).bots[0].statistics;
        let b = &compute(&history, late, &settings).bots[0].statistics;
        prop_assert_eq!(a.trades.trades + b.trades.trades, all.trades.trades);
        prop_assert_eq!(a.trades.net_pnl.0 + b.trades.net_pnl.0, all.trades.net_pnl.0);
        prop_assert_eq!(a.fees.0 + b.fees.0, all.fees.0);
        // The second window starts where the first ends.
        prop_assert_eq!(a.returns.end_equity, b.returns.start_equity);
        prop_assert_eq!(a.returns.pnl.0 + b.returns.pnl.0, all.returns.pnl.0);
    }
}
