//! Where in a TOML document a field is written: a document's text with the file it is known
//! by, and the walks over toml's spanned tree that turn a field path or a parser's offset into
//! `line:column`.

use std::ops::Range;
use std::path::PathBuf;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::error::ConfigError;

/// A TOML document's text and the file it is known by (where it was read from, or where a
/// recorded configuration would be written), to locate fields in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: PathBuf,
    pub text: String,
}

impl Source {
    pub fn new(file: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Source {
            file: file.into(),
            text: text.into(),
        }
    }

    pub(super) fn tree(&self) -> Option<Spanned<DeTable<'_>>> {
        DeTable::parse(&self.text).ok()
    }

    pub(super) fn position(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map_or(0, |tail| tail.chars().count())
            + 1;
        (line, column)
    }

    pub(super) fn error_at(&self, offset: usize, field: String, message: String) -> ConfigError {
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
    pub(super) fn locate_toml_error(&self, error: &toml::de::Error) -> ConfigError {
        let offset = error.span().map_or(0, |span| span.start);
        let field = self
            .tree()
            .map(|tree| path_at(tree.get_ref(), offset))
            .filter(|p| !p.is_empty());
        let message = error.message().trim().replace('\n', " ");
        self.error_at(offset, field.unwrap_or_else(|| "-".into()), message)
    }

    /// A problem with the field at `path`, located by walking the tree.
    pub(super) fn at_path(&self, path: &str, message: String) -> ConfigError {
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

/// The span of the value (not the key) at a `table.key` path.
pub(super) fn value_span(table: &DeTable<'_>, path: &str) -> Option<Range<usize>> {
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
pub(super) fn offset_in_string(
    text: &str,
    span: Range<usize>,
    line: usize,
    column: usize,
) -> usize {
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
