//! Loading a configuration file: TOML into `charon_actors::config`, the checks serde cannot
//! make, and the strategy templates it names, with their conditions compiled. Every problem is
//! reported as `file:line:column: field: message`, all of them at once.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use charon_actors::config::{validate, Config, StrategyTemplate};
use charon_actors::strategy::expr::{parse_condition_with, Condition};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole (unreadable).
    pub line: usize,
    pub column: usize,
    /// The field's path (`bot[0].pair[1].exits.stop_loss_pct`), or `-`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.field,
                self.message
            )
        }
    }
}

/// Everything wrong with a configuration, one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// A template with its conditions compiled.
#[derive(Debug, Clone)]
pub struct Strategy {
    pub template: StrategyTemplate,
    pub long_entry: Option<Condition>,
    pub long_exit: Option<Condition>,
    pub short_entry: Option<Condition>,
    pub short_exit: Option<Condition>,
}

/// A checked configuration and the strategies its pairs use, by template path.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub strategies: BTreeMap<PathBuf, Strategy>,
}

impl Strategy {
    /// `long entry/exit, short entry: 3 indicators`, for reports.
    pub fn summary(&self) -> String {
        let rules = [
            ("long entry", &self.long_entry),
            ("long exit", &self.long_exit),
            ("short entry", &self.short_entry),
            ("short exit", &self.short_exit),
        ];
        let present: Vec<&str> = rules
            .iter()
            .filter(|(_, rule)| rule.is_some())
            .map(|(name, _)| *name)
            .collect();
        let indicators: usize = rules
            .iter()
            .filter_map(|(_, rule)| rule.as_ref())
            .map(|c| c.indicators.len())
            .sum();
        format!("{}: {indicators} indicator(s)", present.join(", "))
    }
}

impl Loaded {
    /// The template file a pair's `strategy` names (relative to the configuration file).
    pub fn template_path(config_path: &Path, strategy: &str) -> PathBuf {
        config_path.parent().unwrap_or(Path::new("")).join(strategy)
    }
}

/// A TOML file's text with its spanned tree, to locate fields.
struct Source {
    file: PathBuf,
    text: String,
}

impl Source {
    fn read(file: &Path) -> Result<Self, ConfigError> {
        std::fs::read_to_string(file)
            .map(|text| Source {
                file: file.to_path_buf(),
                text,
            })
            .map_err(|e| ConfigError {
                file: file.to_path_buf(),
                line: 0,
                column: 0,
                field: "-".into(),
                message: format!("cannot read: {e}"),
            })
    }

    fn tree(&self) -> Option<Spanned<DeTable<'_>>> {
        DeTable::parse(&self.text).ok()
    }

    fn position(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map_or(0, |tail| tail.chars().count())
            + 1;
        (line, column)
    }

    fn error_at(&self, offset: usize, field: String, message: String) -> ConfigError {
        let (line, column) = self.position(offset);
        ConfigError {
            file: self.file.clone(),
            line,
            column,
            field,
            message,
        }
    }

    /// A serde or syntax error from the `toml` crate, with the field under it.
    fn locate_toml_error(&self, error: &toml::de::Error) -> ConfigError {
        let offset = error.span().map_or(0, |span| span.start);
        let field = self
            .tree()
            .map(|tree| path_at(tree.get_ref(), offset))
            .filter(|p| !p.is_empty());
        let message = error.message().trim().replace('\n', " ");
        self.error_at(offset, field.unwrap_or_else(|| "-".into()), message)
    }

    /// A problem with the field at `path`, located by walking the tree.
    fn at_path(&self, path: &str, message: String) -> ConfigError {
        let offset = self
            .tree()
            .and_then(|tree| span_of(tree.get_ref(), path))
            .map_or(0, |span| span.start);
        self.error_at(offset, path.to_string(), message)
    }
}

/// `bot[0].pair[1].exits` into `[("bot", Some(0)), ("pair", Some(1)), ("exits", None)]`.
fn segments(path: &str) -> Vec<(&str, Option<usize>)> {
    path.split('.')
        .map(|segment| match segment.split_once('[') {
            Some((key, index)) => (key, index.trim_end_matches(']').parse().ok()),
            None => (segment, None),
        })
        .collect()
}

/// Where the key (or array element) at `path` is written.
fn span_of(table: &DeTable<'_>, path: &str) -> Option<Range<usize>> {
    let mut table = table;
    let segments = segments(path);
    for (i, (key, index)) in segments.iter().enumerate() {
        let (name, value) = table
            .iter()
            .find(|(name, _)| name.get_ref().as_ref() == *key)?;
        let last = i + 1 == segments.len();
        let value = match (value.get_ref(), index) {
            (DeValue::Array(items), Some(index)) => {
                let item = items.get(*index)?;
                if last {
                    return Some(item.span());
                }
                item
            }
            _ if last => return Some(name.span()),
            _ => value,
        };
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => return Some(value.span()),
        }
    }
    None
}

/// The path of the innermost key, value or array element written over `offset`. (An element
/// of an array of tables spans only its `[[header]]` line, so containment cannot be followed
/// down the tree; every span is collected instead and the smallest that holds `offset` wins.)
fn path_at(table: &DeTable<'_>, offset: usize) -> String {
    let mut entries = Vec::new();
    collect_spans(table, "", &mut entries);
    entries
        .into_iter()
        .filter(|(span, _)| span.start <= offset && offset < span.end.max(span.start + 1))
        .min_by_key(|(span, path)| (span.end - span.start, std::cmp::Reverse(path.len())))
        .map(|(_, path)| path)
        .unwrap_or_default()
}

fn collect_spans(table: &DeTable<'_>, prefix: &str, out: &mut Vec<(Range<usize>, String)>) {
    for (name, value) in table.iter() {
        let mut path = prefix.to_string();
        push(&mut path, name.get_ref());
        out.push((name.span(), path.clone()));
        out.push((value.span(), path.clone()));
        match value.get_ref() {
            DeValue::Table(inner) => collect_spans(inner, &path, out),
            DeValue::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let element = format!("{path}[{index}]");
                    out.push((item.span(), element.clone()));
                    if let DeValue::Table(inner) = item.get_ref() {
                        collect_spans(inner, &element, out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn push(path: &mut String, segment: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(segment);
}

/// Loads `file`, its checks and its templates; every problem found, or the loaded whole.
pub fn load(file: &Path) -> Result<Loaded, ConfigErrors> {
    load_resolving(file, |strategy| Loaded::template_path(file, strategy))
}

/// [`load`], reading each pair's template from the file `resolve` names for its `strategy`
/// (a run rebuilt from its manifest keeps the templates elsewhere than their recorded paths).
/// `strategies` is keyed by the resolved paths.
pub fn load_resolving(
    file: &Path,
    resolve: impl Fn(&str) -> PathBuf,
) -> Result<Loaded, ConfigErrors> {
    let source = Source::read(file).map_err(|e| ConfigErrors(vec![e]))?;
    let config: Config = toml::from_str(&source.text)
        .map_err(|e| ConfigErrors(vec![source.locate_toml_error(&e)]))?;
    let mut errors: Vec<ConfigError> = validate(&config)
        .into_iter()
        .map(|invalid| source.at_path(&invalid.path, invalid.message))
        .collect();

    let mut strategies = BTreeMap::new();
    for (b, bot) in config.bot.iter().enumerate() {
        for (p, pair) in bot.pair.iter().enumerate() {
            let path = resolve(&pair.strategy);
            if strategies.contains_key(&path) {
                continue;
            }
            match load_template(&path) {
                Ok(strategy) => {
                    strategies.insert(path, strategy);
                }
                Err(TemplateError::Unreadable(e)) => errors.push(source.at_path(
                    &format!("bot[{b}].pair[{p}].strategy"),
                    format!("cannot read the template {}: {e}", path.display()),
                )),
                Err(TemplateError::Invalid(found)) => errors.extend(found),
            }
        }
    }
    if errors.is_empty() {
        Ok(Loaded { config, strategies })
    } else {
        Err(ConfigErrors(errors))
    }
}

enum TemplateError {
    Unreadable(std::io::Error),
    Invalid(Vec<ConfigError>),
}

fn load_template(path: &Path) -> Result<Strategy, TemplateError> {
    let text = std::fs::read_to_string(path).map_err(TemplateError::Unreadable)?;
    let source = Source {
        file: path.to_path_buf(),
        text,
    };
    let template: StrategyTemplate = toml::from_str(&source.text)
        .map_err(|e| TemplateError::Invalid(vec![source.locate_toml_error(&e)]))?;
    let mut errors = Vec::new();
    if template.long.is_none() && template.short.is_none() {
        errors.push(source.at_path(
            "name",
            "the template has neither [long] nor [short] rules".into(),
        ));
    }
    let mut compile = |field: &str, text: Option<&String>| -> Option<Condition> {
        let text = text?;
        match parse_condition_with(text, &template.params) {
            Ok(condition) => Some(condition),
            Err(e) => {
                let offset = source
                    .tree()
                    .and_then(|tree| value_span(tree.get_ref(), field))
                    .map_or(0, |span| {
                        offset_in_string(&source.text, span, e.pos.line, e.pos.column)
                    });
                errors.push(source.error_at(offset, field.to_string(), e.message));
                None
            }
        }
    };
    let long_entry = compile(
        "long.entry",
        template.long.as_ref().map(|rules| &rules.entry),
    );
    let long_exit = compile(
        "long.exit",
        template.long.as_ref().and_then(|rules| rules.exit.as_ref()),
    );
    let short_entry = compile(
        "short.entry",
        template.short.as_ref().map(|rules| &rules.entry),
    );
    let short_exit = compile(
        "short.exit",
        template
            .short
            .as_ref()
            .and_then(|rules| rules.exit.as_ref()),
    );
    if !errors.is_empty() {
        return Err(TemplateError::Invalid(errors));
    }
    Ok(Strategy {
        template,
        long_entry,
        long_exit,
        short_entry,
        short_exit,
    })
}

/// The span of the value (not the key) at a `table.key` path.
fn value_span(table: &DeTable<'_>, path: &str) -> Option<Range<usize>> {
    let (section, key) = path.split_once('.')?;
    let (_, section) = table
        .iter()
        .find(|(name, _)| name.get_ref().as_ref() == section)?;
    let DeValue::Table(inner) = section.get_ref() else {
        return None;
    };
    let (_, value) = inner
        .iter()
        .find(|(name, _)| name.get_ref().as_ref() == key)?;
    Some(value.span())
}

/// The file offset of (`line`, `column`) inside the TOML string written at `span`. Escape
/// sequences inside the string would shift the column; conditions have no use for them.
fn offset_in_string(text: &str, span: Range<usize>, line: usize, column: usize) -> usize {
    let raw = &text[span.start..span.end.min(text.len())];
    let mut start = span.start
        + if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            3
        } else {
            1
        };
    if raw.len() >= 3 && (raw.starts_with("\"\"\"") || raw.starts_with("'''")) {
        // A newline right after the opening delimiter is not part of the string.
        if text[start..].starts_with("\r\n") {
            start += 2;
        } else if text[start..].starts_with('\n') {
            start += 1;
        }
    }
    let mut offset = start;
    for _ in 1..line {
        match text[offset..].find('\n') {
            Some(at) => offset += at + 1,
            None => break,
        }
    }
    let skip: usize = text[offset..]
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    offset + skip
}
