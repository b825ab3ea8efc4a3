//! Reading a log for people and tools: filter by seq range, kind, bot, pair and time, render
//! as aligned text or as JSON lines.

use std::io::Write;

use charon_events::{
    BotId, Envelope, EventKind, EventLog, LogError, Origin, Seq, Symbol, Timestamp,
};

/// Which events to show: an event must pass every filter that is set (AND).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// First seq (inclusive).
    pub from: Option<Seq>,
    /// Last seq (inclusive).
    pub to: Option<Seq>,
    /// Empty means every kind.
    pub kinds: Vec<EventKind>,
    /// The envelope's `bot` routing key is one of these; empty means any (or none).
    pub bots: Vec<BotId>,
    /// The envelope's `pair` routing key (for market data, the instrument) is one of these;
    /// empty means any (or none).
    pub pairs: Vec<Symbol>,
    /// Earliest event time (inclusive).
    pub from_ts: Option<Timestamp>,
    /// Latest event time (inclusive).
    pub to_ts: Option<Timestamp>,
}

impl Filter {
    /// The seqs to scan: `[from, to]`, either end open when unset.
    pub fn seq_range(&self) -> (Seq, Seq) {
        (self.from.unwrap_or(1), self.to.unwrap_or(Seq::MAX))
    }

    /// Whether `env` passes every filter, its seq range included.
    pub fn matches(&self, env: &Envelope) -> bool {
        let (from, to) = self.seq_range();
        (from..=to).contains(&env.seq)
            && (self.kinds.is_empty() || self.kinds.contains(&env.payload.kind()))
            && (self.bots.is_empty() || env.bot.is_some_and(|bot| self.bots.contains(&bot)))
            && (self.pairs.is_empty() || env.pair.is_some_and(|pair| self.pairs.contains(&pair)))
            && self.from_ts.is_none_or(|from| env.ts >= from)
            && self.to_ts.is_none_or(|to| env.ts <= to)
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
    /// A filter that does not apply to what is written.
    #[error("{0}")]
    Filter(String),
}

/// Writes the matching events to `out`; returns how many were written.
pub fn inspect(
    log: &EventLog,
    filter: &Filter,
    format: Format,
    out: &mut impl Write,
) -> Result<u64, InspectError> {
    let mut shown = 0;
    let (from, to) = filter.seq_range();
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
    fn every_filter_must_hold() {
        let env = trade().with_bot(BotId::new("b").unwrap());
        let btc = Symbol::new("BTCUSDT").unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        let all = Filter {
            from: Some(7),
            to: Some(7),
            kinds: vec![EventKind::Trade],
            bots: vec![BotId::new("a").unwrap(), BotId::new("b").unwrap()],
            pairs: vec![eth, btc],
            from_ts: Some(env.ts),
            to_ts: Some(env.ts),
        };
        assert!(all.matches(&env), "the bounds are inclusive");
        let fails: [Filter; 7] = [
            Filter {
                from: Some(8),
                ..all.clone()
            },
            Filter {
                to: Some(6),
                ..all.clone()
            },
            Filter {
                kinds: vec![EventKind::Bar],
                ..all.clone()
            },
            Filter {
                bots: vec![BotId::new("a").unwrap()],
                ..all.clone()
            },
            Filter {
                pairs: vec![eth],
                ..all.clone()
            },
            Filter {
                from_ts: Some(Timestamp::from_nanos(env.ts.nanos() + 1)),
                ..all.clone()
            },
            Filter {
                to_ts: Some(Timestamp::from_nanos(env.ts.nanos() - 1)),
                ..all.clone()
            },
        ];
        for filter in &fails {
            assert!(!filter.matches(&env), "{filter:?}");
        }
        // An event without a routing key never passes a filter on that key.
        let unrouted = Envelope {
            bot: None,
            pair: None,
            ..env
        };
        assert!(Filter::default().matches(&unrouted));
        assert!(!Filter {
            bots: all.bots.clone(),
            ..Filter::default()
        }
        .matches(&unrouted));
        assert!(!Filter {
            pairs: all.pairs.clone(),
            ..Filter::default()
        }
        .matches(&unrouted));
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
