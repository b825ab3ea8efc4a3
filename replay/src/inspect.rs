//! Reading a log for people and tools: filter by seq range and kind, render as aligned text or
//! as JSON lines.

use std::io::Write;

use charon_events::{Envelope, EventKind, EventLog, LogError, Origin, Seq};

/// Which events to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<Seq>,
    pub to: Option<Seq>,
    /// Empty means every kind.
    pub kinds: Vec<EventKind>,
}

impl Filter {
    pub fn matches(&self, env: &Envelope) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&env.payload.kind())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    JsonLines,
}

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

/// Writes the matching events to `out`; returns how many were written.
pub fn inspect(
    log: &EventLog,
    filter: &Filter,
    format: Format,
    out: &mut impl Write,
) -> Result<u64, InspectError> {
    let mut shown = 0;
    let from = filter.from.unwrap_or(1);
    let to = filter.to.unwrap_or(Seq::MAX);
    for env in log.range(from, to) {
        let env = env?;
        if !filter.matches(&env) {
            continue;
        }
        match format {
            Format::Text => writeln!(out, "{}", render_text(&env))?,
            Format::JsonLines => writeln!(out, "{}", render_json(&env))?,
        }
        shown += 1;
    }
    Ok(shown)
}

/// One JSON object: the envelope's fields, `time` in RFC 3339 beside `ts` in nanoseconds, and
/// the payload with its `kind`. Decimals are strings, so no precision is lost.
pub fn render_json(env: &Envelope) -> String {
    let mut value = serde_json::to_value(env).expect("events serialize to JSON");
    if let Some(object) = value.as_object_mut() {
        object.insert("time".into(), env.ts.to_rfc3339().into());
    }
    value.to_string()
}

/// One aligned line: seq, time, origin, kind, routing keys and the payload's fields.
pub fn render_text(env: &Envelope) -> String {
    let origin = match env.origin {
        Origin::Input => "input".to_string(),
        Origin::Derived(actor) => actor.to_string(),
    };
    let mut payload = serde_json::to_value(&env.payload).expect("events serialize to JSON");
    if let Some(object) = payload.as_object_mut() {
        object.remove("kind");
    }
    let mut line = format!(
        "{:>10}  {}  {:<20} {:<22}",
        env.seq,
        env.ts.to_rfc3339(),
        origin,
        env.payload.kind().name()
    );
    if let Some(bot) = env.bot {
        line.push_str(&format!(" bot={bot}"));
    }
    if let Some(pair) = env.pair {
        line.push_str(&format!(" pair={pair}"));
    }
    if let Some(cause) = env.cause {
        line.push_str(&format!(" cause={cause}"));
    }
    line.push(' ');
    line.push_str(&payload.to_string());
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use charon_events::payload::market::{Aggressor, Trade};
    use charon_events::{Event, Symbol, Timestamp};

    fn trade() -> Envelope {
        let mut env = Envelope::input(
            Timestamp::from_nanos(1_723_161_254_087_896_568),
            Event::Trade(Trade {
                trade_id: 3_735_683_259,
                price: "61837.63000000".parse().unwrap(),
                qty: "0.02000000".parse().unwrap(),
                aggressor: Aggressor::Seller,
            }),
        )
        .with_pair(Symbol::new("BTCUSDT").unwrap());
        env.seq = 7;
        env
    }

    #[test]
    fn json_keeps_decimals_exact_and_names_the_kind() {
        let value: serde_json::Value = serde_json::from_str(&render_json(&trade())).unwrap();
        assert_eq!(value["seq"], 7);
        assert_eq!(value["origin"], "input");
        assert_eq!(value["pair"], "BTCUSDT");
        assert_eq!(value["time"], "2024-08-08T23:54:14.087896568Z");
        assert_eq!(value["payload"]["kind"], "trade");
        assert_eq!(value["payload"]["price"], "61837.63000000");
    }

    #[test]
    fn text_line_shows_routing_and_fields() {
        let line = render_text(&trade());
        assert!(
            line.trim_start()
                .starts_with("7  2024-08-08T23:54:14.087896568Z  input"),
            "{line}"
        );
        assert!(
            line.contains("trade")
                && line.contains("pair=BTCUSDT")
                && line.contains("\"61837.63000000\"")
        );
    }
}
