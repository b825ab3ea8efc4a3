//! End-to-end: `charon config check` over the shipped examples, and every kind of bad
//! configuration issue 3 names (a pair in two bots, an unknown indicator, a bad number, a
//! missing or an unknown field) exiting 2 with the file, line, column and field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn check(config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_charon"))
        .args(["config", "check", config.to_str().unwrap()])
        .output()
        .expect("the charon binary runs")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// A directory holding the shipped templates, for bot files written by a test.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for template in std::fs::read_dir(repo("examples/strategies")).unwrap() {
        let template = template.unwrap().path();
        std::fs::copy(&template, dir.path().join(template.file_name().unwrap())).unwrap();
    }
    dir
}

const ONE_PAIR: &str = r#"[[bot]]
name = "a"
quote = "USDT"
initial_capital = 1000

[[bot.pair]]
symbol = "BTCUSDT"
strategy = "ema_cross.toml"
sizing = { per_trade = { quote = 100 } }
"#;

/// Writes `text` as `name` in `dir`, checks it, and returns the error lines (exit 2 asserted).
fn errors(dir: &Path, name: &str, text: &str) -> Vec<String> {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = check(&path);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    stderr
        .lines()
        .map(|line| line.trim_start_matches("charon: ").to_string())
        .collect()
}

#[test]
fn shipped_examples_are_valid() {
    for example in [
        "examples/bots/spot_trend.toml",
        "examples/bots/perp_breakout.toml",
    ] {
        let out = check(&repo(example));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{example}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
    }
    let out = check(&repo("examples/bots/spot_trend.toml"));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("BTCUSDT Spot 1m: ema-cross")
            && stdout.contains("ETHUSDT Spot 1m: bollinger-reversion"),
        "{stdout}"
    );
}

#[test]
fn a_pair_in_two_bots() {
    let dir = workspace();
    let text = format!(
        "{ONE_PAIR}\n{}",
        ONE_PAIR.replace("name = \"a\"", "name = \"b\"")
    );
    let lines = errors(dir.path(), "two.toml", &text);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].ends_with("two.toml:17:1: bot[1].pair[0].symbol: BTCUSDT is already traded by bot[0].pair[0]; a pair belongs to one bot only"), "{lines:?}");
}

#[test]
fn an_unknown_indicator_is_located_in_its_template() {
    let dir = workspace();
    std::fs::write(
        dir.path().join("typo.toml"),
        "name = \"typo\"\n\n[long]\nentry = \"ema(close, 10) crosses_above emma(close, 20)\"\nexit = \"\"\"\nclose < sma(close, 20)\n  and rsi(close, 0) > 50\n\"\"\"\n",
    )
    .unwrap();
    let lines = errors(
        dir.path(),
        "bot.toml",
        &ONE_PAIR.replace("ema_cross.toml", "typo.toml"),
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].ends_with("typo.toml:4:39: long.entry: unknown indicator `emma`; known: sma, ema, wma, rsi, roc, bollinger, macd, atr, donchian, stochastic, vwap, volume_sma"), "{lines:?}");
    assert!(
        lines[1].ends_with(
            "typo.toml:7:18: long.exit: `rsi`'s period must be a whole number ≥ 1, not 0"
        ),
        "{lines:?}"
    );
}

#[test]
fn template_parameters_are_checked_where_they_are_used() {
    let dir = workspace();
    std::fs::write(
        dir.path().join("params.toml"),
        "name = \"params\"\n\n[params]\nfast = 10\nslow = 20.5\n\n[long]\nentry = \"ema(close, $fast) crosses_above ema(close, $slow)\"\nexit = \"rsi(close, $fats) > 70\"\n",
    )
    .unwrap();
    let lines = errors(
        dir.path(),
        "bot.toml",
        &ONE_PAIR.replace("ema_cross.toml", "params.toml"),
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    // `$slow` is 20.5, not a period; `$fats` is no parameter at all.
    assert!(
        lines[0].ends_with(
            "params.toml:8:53: long.entry: `ema`'s period must be a whole number ≥ 1, not 20.5"
        ),
        "{lines:?}"
    );
    assert!(
        lines[1].ends_with(
            "params.toml:9:20: long.exit: unknown parameter `$fats`; its [params] are $fast, $slow"
        ),
        "{lines:?}"
    );
    std::fs::write(
        dir.path().join("params.toml"),
        "name = \"params\"\n\n[params]\nfast = 10\nslow = 20\n\n[long]\nentry = \"ema(close, $fast) crosses_above ema(close, $slow)\"\n",
    )
    .unwrap();
    let path = dir.path().join("ok.toml");
    std::fs::write(&path, ONE_PAIR.replace("ema_cross.toml", "params.toml")).unwrap();
    let out = check(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_bad_number() {
    let dir = workspace();
    let lines = errors(
        dir.path(),
        "n.toml",
        &ONE_PAIR.replace(
            "initial_capital = 1000",
            "initial_capital = \"ten thousand\"",
        ),
    );
    assert!(lines[0].ends_with("n.toml:4:19: bot[0].initial_capital: invalid value: string \"ten thousand\", expected a Decimal type representing a fixed-point number"), "{lines:?}");

    let out_of_range = format!("{ONE_PAIR}exits = {{ stop_loss_pct = 150 }}\nleverage = 2\n");
    let lines = errors(dir.path(), "r.toml", &out_of_range);
    assert_eq!(lines.len(), 2, "every problem is reported: {lines:?}");
    assert!(lines[0].ends_with("r.toml:11:1: bot[0].pair[0].leverage: 2 on a spot pair; spot trades without leverage (1)"), "{lines:?}");
    assert!(
        lines[1]
            .ends_with("r.toml:10:11: bot[0].pair[0].exits.stop_loss_pct: 150 is outside (0, 100]"),
        "{lines:?}"
    );
}

#[test]
fn a_missing_and_an_unknown_field() {
    let dir = workspace();
    let lines = errors(
        dir.path(),
        "m.toml",
        &ONE_PAIR.replace("symbol = \"BTCUSDT\"\n", ""),
    );
    assert!(
        lines[0].ends_with("m.toml:6:1: bot[0].pair[0]: missing field `symbol`"),
        "{lines:?}"
    );

    let lines = errors(
        dir.path(),
        "u.toml",
        &format!("{ONE_PAIR}exits = {{ stop_los_pct = 2 }}\n"),
    );
    assert!(lines[0].ends_with("u.toml:10:11: bot[0].pair[0].exits.stop_los_pct: unknown field `stop_los_pct`, expected one of `stop_loss_pct`, `take_profit_pct`, `trailing_stop_pct`, `trailing_activation_pct`, `break_even_after_pct`, `chandelier_atr_mult`, `chandelier_atr_period`, `volatility_atr_mult`, `volatility_atr_period`, `max_bars`, `max_duration`, `signal_flip`"), "{lines:?}");
}

#[test]
fn a_missing_template_and_an_unreadable_file() {
    let dir = workspace();
    let lines = errors(
        dir.path(),
        "t.toml",
        &ONE_PAIR.replace("ema_cross.toml", "nope.toml"),
    );
    assert!(
        lines[0].contains("t.toml:8:1: bot[0].pair[0].strategy: cannot read the template"),
        "{lines:?}"
    );
    let out = check(&dir.path().join("absent.toml"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.toml: cannot read"));
}

#[test]
fn an_option_its_conventions_profile_sets_otherwise_is_located() {
    let dir = workspace();
    let text = format!(
        "{ONE_PAIR}\n[simulation]\nconventions = \"freqtrade\"\ntaker_fee_pct = 0.1\ngap_fill = \"open\"\n"
    );
    let lines = errors(dir.path(), "p.toml", &text);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with(
            "p.toml:14:1: simulation.gap_fill: conventions = \"freqtrade\" sets gap_fill = \
             \"level\": remove the key, or the profile and set each option yourself"
        ),
        "{lines:?}"
    );

    // The profile alone, or with its own values, is valid.
    for extra in ["", "gap_fill = \"level\"\n"] {
        let path = dir.path().join("ok.toml");
        std::fs::write(
            &path,
            format!("{ONE_PAIR}\n[simulation]\nconventions = \"freqtrade\"\n{extra}"),
        )
        .unwrap();
        let out = check(&path);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Issue 13, item 16: a fee is a percent or a ratio under a name that says which; a value that
/// can only be the other unit is refused at its line, naming the key to use.
#[test]
fn a_fee_in_the_wrong_unit_is_refused_at_its_line() {
    let dir = workspace();
    let found = errors(
        dir.path(),
        "ratio-as-pct.toml",
        &format!("{ONE_PAIR}\n[simulation]\ntaker_fee_pct = 0.001\n"),
    );
    let line = ONE_PAIR.lines().count() + 3;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(&format!(
            "ratio-as-pct.toml:{line}:1: simulation.taker_fee_pct:"
        )),
        "{found:?}"
    );
    assert!(
        found[0].contains("write taker_fee_rate = 0.001"),
        "{found:?}"
    );

    let found = errors(
        dir.path(),
        "pct-as-ratio.toml",
        &format!("{ONE_PAIR}\n[simulation]\nmaker_fee_rate = 0.02\n"),
    );
    assert!(found[0].contains("simulation.maker_fee_rate"), "{found:?}");
    assert!(
        found[0].contains("did you mean maker_fee_pct = 0.02"),
        "{found:?}"
    );

    let path = dir.path().join("rate.toml");
    std::fs::write(
        &path,
        format!("{ONE_PAIR}\n[simulation]\ntaker_fee_rate = 0.001\n"),
    )
    .unwrap();
    assert!(check(&path).status.success());
}

/// Issue 13, item 15: a template says how its EMAs start; a seeding that does not exist is
/// refused at its line in the template.
#[test]
fn a_template_names_its_ema_seeding_and_an_unknown_one_is_refused() {
    let dir = workspace();
    let template = std::fs::read_to_string(dir.path().join("ema_cross.toml")).unwrap();
    std::fs::write(
        dir.path().join("ema_cross.toml"),
        format!("{template}\n[indicators]\nema_seed = \"first\"\n"),
    )
    .unwrap();
    let config = dir.path().join("first.toml");
    std::fs::write(&config, ONE_PAIR).unwrap();
    assert!(check(&config).status.success());
    std::fs::write(
        dir.path().join("ema_cross.toml"),
        format!("{template}\n[indicators]\nema_seed = \"zero\"\n"),
    )
    .unwrap();
    let found = errors(dir.path(), "zero.toml", ONE_PAIR);
    let line = template.lines().count() + 3;
    assert!(
        found[0].contains(&format!("ema_cross.toml:{line}:")) && found[0].contains("ema_seed"),
        "{found:?}"
    );
}
