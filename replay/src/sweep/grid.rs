//! The grid of a parameter sweep: axes given as `KEY=FROM..TO:STEP` (or `KEY=V1,V2,...`),
//! their Cartesian product, and each point applied to a run's [`Bundle`], so that every point
//! is an ordinary configuration that runs, and is recorded, like any other.
//!
//! A key addresses the configuration's TOML: `simulation.slippage_bps`, `bot.risk.daily_loss_pct`,
//! `bot.pair.exits.stop_loss_pct`. A segment that reaches an array of tables (`bot`, `pair`)
//! applies to every element, or to one chosen by name: `bot[demo]`, `pair[BTCUSDT]` (a bot by
//! its `name`, a pair by its `symbol`). `params.NAME` sets a strategy template's parameter
//! (`[params]`, docs/CONFIG.md) in every template of the run that defines it. A key the file
//! does not set yet is added, so an option left at its default can be swept; the loader then
//! checks each point as it checks any file, so a misspelt key is an error that names it.
//!
//! Ranges are exact decimals (`0.5..2:0.5` is 0.5, 1, 1.5 and 2, never 1.4999999), and the
//! first axis varies slowest.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use toml::{Table, Value};

use crate::run::Bundle;

/// The most points one sweep may have.
pub const MAX_POINTS: usize = 100_000;

/// One value a key takes.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepValue {
    Number(Decimal),
    Bool(bool),
    Text(String),
}

impl std::fmt::Display for SweepValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepValue::Number(n) => write!(f, "{}", n.normalize()),
            SweepValue::Bool(b) => write!(f, "{b}"),
            SweepValue::Text(t) => f.write_str(t),
        }
    }
}

/// A key and the values it takes, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<SweepValue>,
}

/// One combination of values: `(key, value)` per axis, in axis order.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Position in the grid, from 0.
    pub index: usize,
    pub values: Vec<(String, SweepValue)>,
}

impl Point {
    /// `key=value key=value`, for tables and file names.
    pub fn label(&self) -> String {
        self.values
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Parses `KEY=FROM..TO:STEP` or `KEY=V1,V2,...`.
pub fn parse_axis(text: &str) -> Result<Axis, String> {
    let (key, values) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected KEY=FROM..TO:STEP or KEY=V1,V2,..."))?;
    let key = key.trim();
    if key.is_empty() || segments(key).is_err() {
        return Err(format!("{text:?}: {key:?} is not a configuration key"));
    }
    let values = if let Some((range, step)) = values.split_once(':') {
        range_values(text, range, step)?
    } else {
        values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| match (v.parse::<Decimal>(), v) {
                (Ok(n), _) => SweepValue::Number(n),
                (_, "true" | "false") => SweepValue::Bool(v == "true"),
                _ => SweepValue::Text(v.to_string()),
            })
            .collect()
    };
    if values.is_empty() {
        return Err(format!("{text:?}: no values"));
    }
    Ok(Axis {
        key: key.to_string(),
        values,
    })
}

fn range_values(text: &str, range: &str, step: &str) -> Result<Vec<SweepValue>, String> {
    let number = |what: &str, s: &str| {
        s.trim()
            .parse::<Decimal>()
            .map_err(|_| format!("{text:?}: {what} {s:?} is not a number"))
    };
    let (from, to) = range
        .split_once("..")
        .ok_or_else(|| format!("{text:?}: a range is FROM..TO:STEP"))?;
    let (from, to, step) = (
        number("FROM", from)?,
        number("TO", to)?,
        number("STEP", step)?,
    );
    if step <= Decimal::ZERO {
        return Err(format!("{text:?}: STEP must be above 0"));
    }
    if from > to {
        return Err(format!("{text:?}: FROM is above TO"));
    }
    let count = ((to - from) / step).floor() + Decimal::ONE;
    if count > Decimal::from(MAX_POINTS) {
        return Err(format!("{text:?}: more than {MAX_POINTS} values"));
    }
    let mut values = Vec::new();
    let mut value = from;
    while value <= to {
        values.push(SweepValue::Number(value));
        value += step;
    }
    Ok(values)
}

/// Every combination of the axes' values, the first axis varying slowest. A key given twice
/// is an error (the second would silently win).
pub fn points(axes: &[Axis]) -> Result<Vec<Point>, String> {
    for (i, axis) in axes.iter().enumerate() {
        if axes[..i].iter().any(|earlier| earlier.key == axis.key) {
            return Err(format!("{}: swept twice", axis.key));
        }
    }
    let total = axes
        .iter()
        .try_fold(1usize, |n, axis| n.checked_mul(axis.values.len()))
        .filter(|&n| n <= MAX_POINTS)
        .ok_or_else(|| format!("the sweep has more than {MAX_POINTS} points"))?;
    let mut points = Vec::with_capacity(total);
    for index in 0..total {
        let mut rest = index;
        let mut values = vec![(String::new(), SweepValue::Number(Decimal::ZERO)); axes.len()];
        for (slot, axis) in values.iter_mut().zip(axes).rev() {
            let n = axis.values.len();
            *slot = (axis.key.clone(), axis.values[rest % n].clone());
            rest /= n;
        }
        points.push(Point { index, values });
    }
    Ok(points)
}

/// A key segment: a name and, on an array of tables, the element it selects.
#[derive(Debug, PartialEq)]
struct Segment<'a> {
    name: &'a str,
    select: Option<&'a str>,
}

fn segments(key: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = key;
    while !rest.is_empty() {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..end];
        rest = &rest[end..];
        let mut select = None;
        if let Some(inner) = rest.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or_else(|| format!("{key:?}: unclosed `[`"))?;
            select = Some(&inner[..close]);
            rest = &inner[close + 1..];
        }
        if name.is_empty() || select == Some("") {
            return Err(format!("{key:?}: an empty segment"));
        }
        out.push(Segment { name, select });
        match rest.strip_prefix('.') {
            Some(after) if !after.is_empty() => rest = after,
            Some(_) => return Err(format!("{key:?}: ends with `.`")),
            None if rest.is_empty() => {}
            None => return Err(format!("{key:?}: unexpected {rest:?}")),
        }
    }
    Ok(out)
}

/// `bundle` with `point`'s values set.
pub fn apply(bundle: &Bundle, point: &Point) -> Result<Bundle, String> {
    let mut config: Table = toml::from_str(&bundle.config)
        .map_err(|e| format!("the configuration is not TOML: {e}"))?;
    let mut templates: BTreeMap<String, Table> = BTreeMap::new();
    for (path, text) in &bundle.templates {
        let table = toml::from_str(text).map_err(|e| format!("template {path}: {e}"))?;
        templates.insert(path.clone(), table);
    }
    for (key, value) in &point.values {
        let path = segments(key)?;
        if let [Segment {
            name: "params",
            select: None,
        }, param] = path.as_slice()
        {
            set_param(&mut templates, key, param, value)?;
        } else {
            let set = set_in(&mut config, &path, value).map_err(|e| format!("{key}: {e}"))?;
            if set == 0 {
                return Err(format!("{key}: selects nothing in the configuration"));
            }
        }
    }
    let templates = self_contained(&mut config, templates);
    let mut out = Bundle {
        config: toml::to_string(&config).map_err(|e| e.to_string())?,
        templates: BTreeMap::new(),
    };
    for (path, table) in templates {
        let text = toml::to_string(&table).map_err(|e| e.to_string())?;
        out.templates.insert(path, text);
    }
    Ok(out)
}

/// `templates` with every absolute path moved under `strategies/` beside the configuration,
/// and the pairs that name it pointed there: a point's directory then holds all its files.
fn self_contained(
    config: &mut Table,
    templates: BTreeMap<String, Table>,
) -> BTreeMap<String, Table> {
    let mut moved: BTreeMap<String, String> = BTreeMap::new();
    let mut out = BTreeMap::new();
    let (absolute, relative): (Vec<_>, Vec<_>) = templates
        .into_iter()
        .partition(|(path, _)| std::path::Path::new(path).is_absolute());
    out.extend(relative);
    for (path, table) in absolute {
        let name = std::path::Path::new(&path).file_name().map_or_else(
            || "strategy.toml".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut new = format!("strategies/{name}");
        let mut n = 1;
        while out.contains_key(&new) {
            new = format!("strategies/{n}/{name}");
            n += 1;
        }
        out.insert(new.clone(), table);
        moved.insert(path, new);
    }
    if moved.is_empty() {
        return out;
    }
    fn tables(value: Option<&mut Value>) -> Vec<&mut Table> {
        match value {
            Some(Value::Array(items)) => items.iter_mut().filter_map(Value::as_table_mut).collect(),
            _ => Vec::new(),
        }
    }
    for bot in tables(config.get_mut("bot")) {
        for pair in tables(bot.get_mut("pair")) {
            if let Some(Value::String(strategy)) = pair.get_mut("strategy") {
                if let Some(new) = moved.get(strategy.as_str()) {
                    *strategy = new.clone();
                }
            }
        }
    }
    out
}

fn set_param(
    templates: &mut BTreeMap<String, Table>,
    key: &str,
    param: &Segment<'_>,
    value: &SweepValue,
) -> Result<(), String> {
    if param.select.is_some() {
        return Err(format!("{key}: a parameter is `params.NAME`"));
    }
    let mut found = 0;
    for table in templates.values_mut() {
        if let Some(Value::Table(params)) = table.get_mut("params") {
            if let Some(slot) = params.get_mut(param.name) {
                *slot = toml_value(value, Some(slot), false);
                found += 1;
            }
        }
    }
    if found == 0 {
        return Err(format!(
            "{key}: no strategy template of the run has a parameter `{}`",
            param.name
        ));
    }
    Ok(())
}

/// Sets `path` under `table`; returns how many places were set.
fn set_in(table: &mut Table, path: &[Segment<'_>], value: &SweepValue) -> Result<usize, String> {
    let (first, rest) = path.split_first().expect("a key has a segment");
    if rest.is_empty() {
        if first.select.is_some() {
            return Err(format!("`{}[...]` must be followed by a field", first.name));
        }
        let slot = table.get(first.name);
        if matches!(slot, Some(Value::Table(_) | Value::Array(_))) {
            return Err(format!("`{}` is a table, not a value", first.name));
        }
        let new = toml_value(value, slot, true);
        table.insert(first.name.to_string(), new);
        return Ok(1);
    }
    match table
        .entry(first.name.to_string())
        .or_insert_with(|| Value::Table(Table::new()))
    {
        Value::Table(inner) => {
            if first.select.is_some() {
                return Err(format!(
                    "`{}` is a table, not a list to select from",
                    first.name
                ));
            }
            set_in(inner, rest, value)
        }
        Value::Array(elements) => {
            let mut set = 0;
            for element in elements.iter_mut() {
                let Value::Table(inner) = element else {
                    return Err(format!("`{}` is not a list of tables", first.name));
                };
                let chosen = first.select.is_none_or(|wanted| {
                    ["name", "symbol"]
                        .iter()
                        .any(|id| inner.get(*id).and_then(Value::as_str) == Some(wanted))
                });
                if chosen {
                    set += set_in(inner, rest, value)?;
                }
            }
            if set == 0 {
                if let Some(wanted) = first.select {
                    return Err(format!("no `{}` named {wanted}", first.name));
                }
            }
            Ok(set)
        }
        _ => Err(format!("`{}` is a value, not a table", first.name)),
    }
}

/// The TOML value for `value`. A whole number stays an integer, as a file would write it,
/// unless the value it replaces is a float. A fraction is a float when the float reads back as
/// exactly that decimal (the loader reads a float by its shortest text, so `0.1` is 0.1);
/// one with more digits than a float holds is written as text in the configuration
/// (`exact_text`), which the loader reads as the same exact decimal. Template parameters are
/// `f64` anyway, so they always take the float.
fn toml_value(value: &SweepValue, replaced: Option<&Value>, exact_text: bool) -> Value {
    match value {
        SweepValue::Text(text) => Value::String(text.clone()),
        SweepValue::Bool(b) => Value::Boolean(*b),
        SweepValue::Number(n) => {
            let n = n.normalize();
            let whole = n.fract().is_zero() && !matches!(replaced, Some(Value::Float(_)));
            if let (true, Ok(int)) = (whole, i64::try_from(n)) {
                return Value::Integer(int);
            }
            // A decimal's text always parses as the nearest double.
            let float: f64 = n.to_string().parse().unwrap_or(f64::NAN);
            let exact = float.to_string().parse::<Decimal>() == Ok(n);
            if exact || !exact_text {
                Value::Float(float)
            } else {
                Value::String(n.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(axis: &Axis) -> Vec<String> {
        axis.values.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn ranges_are_exact_decimals() {
        let axis = parse_axis("bot.pair.exits.stop_loss_pct=0.5..2:0.5").unwrap();
        assert_eq!(axis.key, "bot.pair.exits.stop_loss_pct");
        assert_eq!(numbers(&axis), ["0.5", "1", "1.5", "2"]);
        // 0.1 steps never drift: ten steps from 0 end exactly at 1.
        let axis = parse_axis("k=0..1:0.1").unwrap();
        assert_eq!(axis.values.len(), 11);
        assert_eq!(axis.values[10], SweepValue::Number(Decimal::ONE));
        // A step that does not land on TO stops below it.
        assert_eq!(
            numbers(&parse_axis("k=1..2:0.4").unwrap()),
            ["1", "1.4", "1.8"]
        );
        assert_eq!(
            numbers(&parse_axis("bot.pair.timeframe=5m, 15m").unwrap()),
            ["5m", "15m"]
        );
    }

    #[test]
    fn booleans_and_text_are_values_too() {
        let axis = parse_axis("bot.pair.exits.signal_flip=true,false").unwrap();
        assert_eq!(
            axis.values,
            [SweepValue::Bool(true), SweepValue::Bool(false)]
        );
        let flip = apply_one("bot.pair.exits.signal_flip=true").unwrap();
        assert_eq!(
            flip["bot"][0]["pair"][0]["exits"]["signal_flip"],
            Value::Boolean(true)
        );
    }

    #[test]
    fn a_decimal_a_float_cannot_hold_is_written_as_its_exact_text() {
        let fine = apply_one("bot.pair.exits.stop_loss_pct=0.1").unwrap();
        assert_eq!(stop(&fine, 0), Value::Float(0.1));
        let long = apply_one("bot.pair.exits.stop_loss_pct=0.12345678901234567891").unwrap();
        assert_eq!(
            stop(&long, 0),
            Value::String("0.12345678901234567891".into())
        );
        // A parameter is a float whatever its digits: the template reads `f64`.
        let point = points(&[parse_axis("params.fast=0.12345678901234567891").unwrap()])
            .unwrap()
            .remove(0);
        let applied = apply(&bundle(), &point).unwrap();
        let ema: Table = toml::from_str(&applied.templates["../strategies/ema.toml"]).unwrap();
        assert!(ema["params"]["fast"].is_float());
    }

    #[test]
    fn a_key_swept_twice_is_refused() {
        let axes = [parse_axis("a=1,2").unwrap(), parse_axis("a=3").unwrap()];
        assert!(points(&axes).unwrap_err().contains("a: swept twice"));
    }

    #[test]
    fn absolute_template_paths_move_into_the_point() {
        let mut base = bundle();
        let text = base.templates.remove("../strategies/plain.toml").unwrap();
        base.templates
            .insert("/somewhere/plain.toml".into(), text.clone());
        base.templates.insert("/elsewhere/plain.toml".into(), text);
        base.config = base
            .config
            .replace(
                "symbol = \"BTCUSDT\"",
                "symbol = \"BTCUSDT\"\nstrategy = \"/somewhere/plain.toml\"",
            )
            .replace(
                "symbol = \"XRPUSDT\"",
                "symbol = \"XRPUSDT\"\nstrategy = \"/elsewhere/plain.toml\"",
            );
        let point = points(&[parse_axis("simulation.slippage_bps=2").unwrap()])
            .unwrap()
            .remove(0);
        let applied = apply(&base, &point).unwrap();
        let keys: Vec<&str> = applied.templates.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "../strategies/ema.toml",
                "strategies/1/plain.toml",
                "strategies/plain.toml"
            ]
        );
        let config: Table = toml::from_str(&applied.config).unwrap();
        let strategy = |pair: usize| config["bot"][0]["pair"][pair]["strategy"].clone();
        assert_eq!(strategy(0), Value::String("strategies/1/plain.toml".into()));
        assert_eq!(strategy(1), Value::String("strategies/plain.toml".into()));
    }

    #[test]
    fn bad_axes_say_why() {
        for (text, why) in [
            ("k", "expected KEY="),
            ("k=1..2:0", "STEP must be above 0"),
            ("k=3..2:1", "FROM is above TO"),
            ("k=1..x:1", "TO \"x\" is not a number"),
            ("k=1:1", "FROM..TO:STEP"),
            ("=1,2", "not a configuration key"),
            ("a..b=1", "not a configuration key"),
            ("k=0..1000000:1", "more than 100000 values"),
        ] {
            let error = parse_axis(text).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn points_are_the_product_with_the_first_axis_slowest() {
        let axes = [
            parse_axis("a=1,2").unwrap(),
            parse_axis("b=10..30:10").unwrap(),
        ];
        let labels: Vec<String> = points(&axes).unwrap().iter().map(Point::label).collect();
        assert_eq!(
            labels,
            ["a=1 b=10", "a=1 b=20", "a=1 b=30", "a=2 b=10", "a=2 b=20", "a=2 b=30"]
        );
        let big = [
            parse_axis("a=1..1000:1").unwrap(),
            parse_axis("b=1..1000:1").unwrap(),
        ];
        assert!(points(&big).unwrap_err().contains("more than"));
    }

    fn bundle() -> Bundle {
        let mut templates = BTreeMap::new();
        templates.insert(
            "../strategies/ema.toml".to_string(),
            "name = \"ema\"\n[params]\nfast = 10\n[long]\nentry = \"ema(close, $fast) > close\"\n"
                .to_string(),
        );
        templates.insert(
            "../strategies/plain.toml".to_string(),
            "name = \"plain\"\n[long]\nentry = \"close > open\"\n".to_string(),
        );
        Bundle {
            config: r#"
[[bot]]
name = "demo"
initial_capital = 10000
[[bot.pair]]
symbol = "BTCUSDT"
exits = { stop_loss_pct = 2 }
[[bot.pair]]
symbol = "XRPUSDT"
exits = { stop_loss_pct = 3.5 }
[simulation]
slippage_bps = 1
"#
            .to_string(),
            templates,
        }
    }

    fn apply_one(text: &str) -> Result<Table, String> {
        let axis = parse_axis(text).unwrap();
        let point = points(&[axis]).unwrap().remove(0);
        let applied = apply(&bundle(), &point)?;
        Ok(toml::from_str(&applied.config).unwrap())
    }

    fn stop(config: &Table, pair: usize) -> Value {
        config["bot"][0]["pair"][pair]["exits"]["stop_loss_pct"].clone()
    }

    #[test]
    fn keys_reach_every_element_or_the_one_named() {
        let all = apply_one("bot.pair.exits.stop_loss_pct=1.5").unwrap();
        assert_eq!(stop(&all, 0), Value::Float(1.5));
        assert_eq!(stop(&all, 1), Value::Float(1.5));
        let one = apply_one("bot[demo].pair[XRPUSDT].exits.stop_loss_pct=4").unwrap();
        assert_eq!(stop(&one, 0), Value::Integer(2));
        // Replacing a float keeps a float, so the file reads as the user wrote it.
        assert_eq!(stop(&one, 1), Value::Float(4.0));
        let new = apply_one("bot.pair[BTCUSDT].exits.trailing_stop_pct=0.8").unwrap();
        assert_eq!(
            new["bot"][0]["pair"][0]["exits"]["trailing_stop_pct"],
            Value::Float(0.8)
        );
        let sim = apply_one("simulation.fill=same_bar_close").unwrap();
        assert_eq!(
            sim["simulation"]["fill"],
            Value::String("same_bar_close".into())
        );
    }

    #[test]
    fn keys_that_select_nothing_or_a_table_are_errors() {
        for (text, why) in [
            (
                "bot[other].pair.exits.stop_loss_pct=1",
                "no `bot` named other",
            ),
            ("bot.pair=1", "is a table, not a value"),
            ("bot.initial_capital.x=1", "is a value, not a table"),
            ("simulation[x].fill=1", "not a list to select from"),
            (
                "params.slow=5",
                "no strategy template of the run has a parameter `slow`",
            ),
        ] {
            let error = apply_one(text).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn params_are_set_in_the_templates_that_define_them() {
        let point = points(&[parse_axis("params.fast=12").unwrap()])
            .unwrap()
            .remove(0);
        let applied = apply(&bundle(), &point).unwrap();
        let ema: Table = toml::from_str(&applied.templates["../strategies/ema.toml"]).unwrap();
        assert_eq!(ema["params"]["fast"], Value::Integer(12));
        assert_eq!(
            ema["long"]["entry"].as_str(),
            Some("ema(close, $fast) > close")
        );
        let plain: Table = toml::from_str(&applied.templates["../strategies/plain.toml"]).unwrap();
        assert!(plain.get("params").is_none());
        assert_eq!(
            applied.config,
            toml::to_string(&toml::from_str::<Table>(&bundle().config).unwrap()).unwrap()
        );
    }
}
