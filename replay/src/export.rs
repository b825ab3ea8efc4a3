//! Exporting a log for other tools: JSON lines (what `inspect --json` prints), one CSV row per
//! event, one CSV row per fill or one CSV row per closed trade for spreadsheets. The same
//! [`Filter`] as inspection selects the events (for trades, the events that close them).

use std::collections::VecDeque;
use std::fmt;
use std::io::Write;
use std::str::FromStr;

use charon_events::payload::order::{Fill, Liquidity, Side};
use charon_events::{BotId, Envelope, Event, EventLog, Origin, Seq, Symbol};
use rust_decimal::Decimal;

use crate::inspect::{inspect, Filter, Format, InspectError};
use crate::report::history::ClosedTrade;
use crate::report::json_name;
use crate::report::trades::TradeLedger;

/// What an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per event, exactly as `inspect --json` prints it.
    JsonLines,
    /// One row per event: [`EVENT_COLUMNS`].
    Csv,
    /// One row per `order_filled` and `order_partially_filled` event: [`FILL_COLUMNS`].
    FillsCsv,
    /// One row per closed trade, as the run report records it: [`TRADE_COLUMNS`].
    TradesCsv,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 4] =
        [Self::JsonLines, Self::Csv, Self::FillsCsv, Self::TradesCsv];

    pub fn name(self) -> &'static str {
        match self {
            Self::JsonLines => "jsonl",
            Self::Csv => "csv",
            Self::FillsCsv => "fills-csv",
            Self::TradesCsv => "trades-csv",
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|format| format.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown export format {s:?}; known formats: {}",
                    known.join(", ")
                )
            })
    }
}

/// The header of the `csv` format. `payload_json` is the `payload` object of the `jsonl` line
/// (with its `kind`; decimals as strings).
pub const EVENT_COLUMNS: [&str; 10] = [
    "seq",
    "time",
    "ts_ns",
    "origin",
    "actor",
    "kind",
    "bot",
    "pair",
    "cause",
    "payload_json",
];

/// The header of the `fills-csv` format. `realized_pnl_after` is the `realized_pnl` of the
/// first `position_updated` of the same bot and pair after the fill (empty if there is none).
pub const FILL_COLUMNS: [&str; 10] = [
    "time",
    "bot",
    "pair",
    "order_id",
    "side",
    "price",
    "qty",
    "fee",
    "liquidity",
    "realized_pnl_after",
];

/// The header of the `trades-csv` format: a [`ClosedTrade`]'s fields. Times are RFC 3339,
/// `duration_s` in seconds, amounts and prices exact decimals (never an exponent); the
/// percentages are rounded to 4 places; `exit_price`, the returns and the exit's fields are
/// empty when unknown.
pub const TRADE_COLUMNS: [&str; 19] = [
    "bot",
    "pair",
    "side",
    "opened_at",
    "closed_at",
    "duration_s",
    "entry_price",
    "exit_price",
    "max_qty",
    "entry_notional",
    "realized_pnl",
    "fees",
    "funding",
    "net_pnl",
    "return_pct",
    "gross_return_pct",
    "exit_purpose",
    "exit_rule",
    "exit_reason",
];

/// Writes the matching events to `out` in `format`; returns how many events (rows, for the CSV
/// formats, not counting the header) were written.
pub fn export(
    log: &EventLog,
    filter: &Filter,
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<u64, InspectError> {
    match format {
        ExportFormat::JsonLines => inspect(log, filter, Format::JsonLines, out),
        ExportFormat::Csv => export_events(log, filter, out),
        ExportFormat::FillsCsv => export_fills(log, filter, out),
        ExportFormat::TradesCsv => export_trades(log, filter, out),
    }
}

fn export_events(
    log: &EventLog,
    filter: &Filter,
    out: &mut impl Write,
) -> Result<u64, InspectError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(EVENT_COLUMNS).map_err(csv_error)?;
    let mut written = 0;
    let (from, to) = filter.seq_range();
    for env in log.range(from, to) {
        let env = env?;
        if !filter.matches(&env) {
            continue;
        }
        csv.write_record(event_row(&env)).map_err(csv_error)?;
        written += 1;
    }
    csv.flush()?;
    Ok(written)
}

/// One `csv` row.
pub fn event_row(env: &Envelope) -> [String; 10] {
    let (origin, actor) = match env.origin {
        Origin::Input => ("input", String::new()),
        Origin::Derived(actor) => ("derived", actor.to_string()),
    };
    [
        env.seq.to_string(),
        env.ts.to_rfc3339(),
        env.ts.nanos().to_string(),
        origin.to_string(),
        actor,
        env.payload.kind().name().to_string(),
        optional(env.bot),
        optional(env.pair),
        optional(env.cause),
        serde_json::to_string(&env.payload).expect("events serialize to JSON"),
    ]
}

fn optional(value: Option<impl ToString>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// A fill row waiting for the position update that follows its fill.
struct PendingFill {
    key: (Option<BotId>, Option<Symbol>),
    row: [String; 10],
    resolved: bool,
}

/// The fills of the matching events, each with the realized P&L of the next position update of
/// its bot and pair. That update is looked up past the filter (past `--to`, whatever its kind
/// or time): the filter selects fills, not the events that complete their rows. Rows keep the
/// order of their fills; one waits only until that update, normally the very next event.
fn export_fills(
    log: &EventLog,
    filter: &Filter,
    out: &mut impl Write,
) -> Result<u64, InspectError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(FILL_COLUMNS).map_err(csv_error)?;
    let mut pending: VecDeque<PendingFill> = VecDeque::new();
    let mut written = 0;
    let (from, to) = filter.seq_range();
    for env in log.range(from, Seq::MAX) {
        let env = env?;
        if env.seq > to && pending.is_empty() {
            break;
        }
        match &env.payload {
            Event::OrderFilled(filled) if filter.matches(&env) => {
                pending.push_back(pending_fill(&env, &filled.fill));
            }
            Event::OrderPartiallyFilled(partial) if filter.matches(&env) => {
                pending.push_back(pending_fill(&env, &partial.fill));
            }
            Event::PositionUpdated(update) => {
                let key = (env.bot, env.pair);
                for fill in pending.iter_mut().filter(|f| !f.resolved && f.key == key) {
                    fill.row[9] = update.realized_pnl.to_string();
                    fill.resolved = true;
                }
            }
            _ => {}
        }
        while pending.front().is_some_and(|fill| fill.resolved) {
            let fill = pending.pop_front().expect("checked");
            csv.write_record(&fill.row).map_err(csv_error)?;
            written += 1;
        }
    }
    // Fills that no position update followed: the column stays empty.
    for fill in pending {
        csv.write_record(&fill.row).map_err(csv_error)?;
        written += 1;
    }
    csv.flush()?;
    Ok(written)
}

fn pending_fill(env: &Envelope, fill: &Fill) -> PendingFill {
    // The exchange routes its fills by bot and pair; a fill without a pair key still names its
    // pair in the order id.
    let pair = env.pair.or(Some(fill.order_id.pair));
    PendingFill {
        key: (env.bot, env.pair),
        row: [
            env.ts.to_rfc3339(),
            optional(env.bot),
            optional(pair),
            fill.order_id.to_wire(),
            match fill.side {
                Side::Buy => "buy",
                Side::Sell => "sell",
            }
            .to_string(),
            fill.price.to_string(),
            fill.qty.to_string(),
            fill.fee.to_string(),
            match fill.liquidity {
                Liquidity::Maker => "maker",
                Liquidity::Taker => "taker",
            }
            .to_string(),
            String::new(),
        ],
        resolved: false,
    }
}

/// The closed trades of every bot and pair, in the order they closed, each selected by the
/// position update that closed it: its seq and time, its bot and pair. Trades are followed
/// from the log's first event whatever the filter (a trade may open before `--from`). Kinds
/// select nothing here and are refused.
fn export_trades(
    log: &EventLog,
    filter: &Filter,
    out: &mut impl Write,
) -> Result<u64, InspectError> {
    if !filter.kinds.is_empty() {
        return Err(InspectError::Filter(
            "--kind does not apply to trades-csv: trades are selected by the update that \
             closes them (--from/--to, --from-ts/--to-ts, --bot, --pair)"
                .into(),
        ));
    }
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(TRADE_COLUMNS).map_err(csv_error)?;
    let mut ledger = TradeLedger::default();
    let mut written = 0;
    let (_, to) = filter.seq_range();
    for env in log.range(1, to) {
        let env = env?;
        match ledger.observe(&env) {
            Some(trade) if filter.matches(&env) => {
                csv.write_record(trade_row(&trade)).map_err(csv_error)?;
                written += 1;
            }
            _ => {}
        }
    }
    csv.flush()?;
    Ok(written)
}

/// One `trades-csv` row.
pub fn trade_row(trade: &ClosedTrade) -> [String; 19] {
    [
        trade.bot.to_string(),
        trade.pair.to_string(),
        json_name(&trade.side),
        trade.opened_at.to_rfc3339(),
        trade.closed_at.to_rfc3339(),
        Decimal::new(trade.duration_ns, 9).normalize().to_string(),
        trade.entry_price.to_string(),
        optional(trade.exit_price),
        trade.max_qty.to_string(),
        trade.entry_notional.to_string(),
        trade.realized_pnl.to_string(),
        trade.fees.to_string(),
        trade.funding.to_string(),
        trade.net_pnl.to_string(),
        optional(trade.return_pct),
        optional(trade.gross_return_pct),
        trade
            .exit
            .purpose
            .as_ref()
            .map_or_else(String::new, json_name),
        trade.exit.rule.clone().unwrap_or_default(),
        trade.exit.reason.clone().unwrap_or_default(),
    ]
}

/// The csv writer's errors are I/O errors (rows have a fixed width and are valid UTF-8).
fn csv_error(error: csv::Error) -> InspectError {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => InspectError::Output(e),
        other => InspectError::Output(std::io::Error::other(format!("{other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charon_events::payload::order::{OrderFilled, OrderPartiallyFilled, PositionUpdated};
    use charon_events::samples::one_of;
    use charon_events::{EventKind, LogKind, Money};

    fn bot(name: &str) -> BotId {
        BotId::new(name).unwrap()
    }

    fn pair(name: &str) -> Symbol {
        Symbol::new(name).unwrap()
    }

    fn routed(kind: EventKind, bot_name: &str, pair_name: &str) -> Envelope {
        let mut env = one_of(kind);
        env.bot = Some(bot(bot_name));
        env.pair = Some(pair(pair_name));
        env
    }

    fn fill(bot_name: &str, pair_name: &str, price: &str, fee: &str) -> Envelope {
        let mut env = routed(EventKind::OrderFilled, bot_name, pair_name);
        let Event::OrderFilled(OrderFilled { fill, .. }) = &mut env.payload else {
            unreachable!()
        };
        fill.price = price.parse().unwrap();
        fill.fee = fee.parse().unwrap();
        env
    }

    fn partial(bot_name: &str, pair_name: &str) -> Envelope {
        let env = routed(EventKind::OrderPartiallyFilled, bot_name, pair_name);
        assert!(matches!(
            env.payload,
            Event::OrderPartiallyFilled(OrderPartiallyFilled { .. })
        ));
        env
    }

    fn position(bot_name: &str, pair_name: &str, realized: &str) -> Envelope {
        let mut env = routed(EventKind::PositionUpdated, bot_name, pair_name);
        let Event::PositionUpdated(PositionUpdated { realized_pnl, .. }) = &mut env.payload else {
            unreachable!()
        };
        *realized_pnl = realized.parse::<Money>().unwrap();
        env
    }

    fn log_of(dir: &std::path::Path, mut events: Vec<Envelope>) -> EventLog {
        let log = EventLog::create(dir.join("run"), LogKind::Run).unwrap();
        for event in &mut events {
            log.append(event).unwrap();
        }
        log
    }

    fn rows(log: &EventLog, filter: &Filter, format: ExportFormat) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let written = export(log, filter, format, &mut out).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        assert_eq!(rows.len() as u64, written);
        rows
    }

    #[test]
    fn fills_take_the_next_position_update_of_their_own_bot_and_pair() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_of(
            dir.path(),
            vec![
                fill("x", "BTCUSDT", "61837.63", "0.6183763"), // 1
                fill("x", "ETHUSDT", "2500", "-0.0000001"),    // 2: a maker rebate
                position("y", "BTCUSDT", "99"),                // 3: another bot's
                position("x", "ETHUSDT", "5.5"),               // 4
                position("x", "BTCUSDT", "-7.25"),             // 5
                position("x", "BTCUSDT", "1000"),              // 6: not the next one
                partial("x", "BTCUSDT"),                       // 7: nothing follows
            ],
        );
        let rows = rows(&log, &Filter::default(), ExportFormat::FillsCsv);
        let summary: Vec<(&str, &str, &str, &str)> = rows
            .iter()
            .map(|r| (r[2].as_str(), r[5].as_str(), r[7].as_str(), r[9].as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("BTCUSDT", "61837.63", "0.6183763", "-7.25"),
                ("ETHUSDT", "2500", "-0.0000001", "5.5"),
                ("BTCUSDT", "61837.63000000", "1.2367526", ""),
            ],
            "rows in fill order, each with its own pair's next update"
        );
        assert_eq!(rows[0][1], "x");
        assert_eq!(rows[0][0], one_of(EventKind::OrderFilled).ts.to_rfc3339());
        let Event::OrderFilled(sample) = one_of(EventKind::OrderFilled).payload else {
            unreachable!()
        };
        assert_eq!(rows[0][3], sample.fill.order_id.to_wire());
        assert!(rows[0][3].starts_with("BTCUSDT-"), "{}", rows[0][3]);
        assert_eq!(rows[0][4], format!("{:?}", sample.fill.side).to_lowercase());
        assert_eq!(
            rows[0][8],
            format!("{:?}", sample.fill.liquidity).to_lowercase()
        );

        // The update that completes a row lies past `--to` and is not of a selected kind.
        let to_first = Filter {
            to: Some(1),
            kinds: vec![EventKind::OrderFilled],
            ..Filter::default()
        };
        let rows = super::tests::rows(&log, &to_first, ExportFormat::FillsCsv);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][9], "-7.25");
    }

    #[test]
    fn decimals_never_use_an_exponent() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_of(
            dir.path(),
            vec![fill(
                "x",
                "BTCUSDT",
                "0.0000000000000000000000000001",
                "79228162514264337593543950335",
            )],
        );
        let rows = rows(&log, &Filter::default(), ExportFormat::FillsCsv);
        assert_eq!(rows[0][5], "0.0000000000000000000000000001");
        assert_eq!(rows[0][7], "79228162514264337593543950335");
    }

    #[test]
    fn event_rows_quote_the_payload_and_name_the_actor() {
        let dir = tempfile::tempdir().unwrap();
        let events = charon_events::samples::one_of_each();
        let log = log_of(dir.path(), events.clone());
        let mut out = Vec::new();
        export(&log, &Filter::default(), ExportFormat::Csv, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with(&(EVENT_COLUMNS.join(",") + "\n")));
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), events.len());
        for (row, env) in rows.iter().zip(&events) {
            let json: serde_json::Value =
                serde_json::from_str(&crate::inspect::render_json(env)).unwrap();
            assert_eq!(row[0], json["seq"].to_string());
            assert_eq!(row[1], json["time"]);
            assert_eq!(row[2], json["ts"].to_string());
            assert_eq!(row[3], json["origin"]);
            assert_eq!(row[5], json["payload"]["kind"]);
            let payload: serde_json::Value = serde_json::from_str(&row[9]).unwrap();
            assert_eq!(payload, json["payload"]);
            match env.origin {
                Origin::Input => assert_eq!(&row[4], ""),
                Origin::Derived(actor) => assert_eq!(row[4], actor.to_string()),
            }
            assert_eq!(row[6], optional(env.bot));
            assert_eq!(row[7], optional(env.pair));
            assert_eq!(row[8], optional(env.cause));
        }
    }

    #[test]
    fn formats_parse_by_name() {
        for format in ExportFormat::ALL {
            assert_eq!(format.name().parse::<ExportFormat>(), Ok(format));
        }
        let err = "xlsx".parse::<ExportFormat>().unwrap_err();
        assert!(
            err.contains("\"xlsx\"") && err.contains("fills-csv"),
            "{err}"
        );
    }
}
