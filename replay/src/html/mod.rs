//! The HTML report: one self-contained file (inline CSS, inline SVG charts, a few lines of
//! inline script to sort tables; no network needed to view it). This module owns the page's
//! building blocks; `chart` draws the SVG charts.

pub mod chart;
pub mod report;

use std::fmt::Write as _;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Appends `text` to `out`, escaped for HTML content and attribute values.
pub fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// An event time for reading in a table, UTC: `2022-01-02 12:31:00`, with milliseconds
/// (`.250`) when the time has any. Civil dates from days since the epoch (H. Hinnant's
/// algorithm), because a report prints thousands of times.
pub fn utc_time(ts: charon_events::Timestamp) -> String {
    let nanos = ts.nanos();
    let seconds = nanos.div_euclid(1_000_000_000);
    let millis = nanos.rem_euclid(1_000_000_000) / 1_000_000;
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (
        second_of_day / 3_600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    let mut text = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}");
    if millis != 0 {
        let _ = write!(text, ".{millis:03}");
    }
    text
}

/// A cell's content and how it sorts and aligns.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    /// A number as shown (`-13.01`, `4.55%`), right-aligned; it sorts by the number its text
    /// starts with, which the page reads from the text itself. Empty shows an em dash and sorts
    /// below every number.
    Number(String),
    /// Right-aligned text that does not read as its value (`3h 35m`): it sorts by the key.
    Keyed(String, i64),
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Cell::Text(text.into())
    }

    pub fn number(shown: impl Into<String>) -> Self {
        Cell::Number(shown.into())
    }

    pub fn keyed(shown: impl Into<String>, key: i64) -> Self {
        Cell::Keyed(shown.into(), key)
    }
}

/// A table whose columns sort on a click (numbers by value, text by text).
#[derive(Debug, Clone)]
pub struct Table {
    pub id: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn render(&self) -> String {
        let mut html = String::with_capacity(64 * (self.rows.len() + 1) * self.headers.len());
        html.push_str(r#"<table class="sortable" id=""#);
        escape_into(&mut html, &self.id);
        html.push_str(r#""><thead><tr>"#);
        for header in &self.headers {
            html.push_str("<th>");
            escape_into(&mut html, header);
            html.push_str("</th>");
        }
        html.push_str("</tr></thead><tbody>");
        for row in &self.rows {
            html.push_str("<tr>");
            for cell in row {
                match cell {
                    Cell::Text(text) => {
                        html.push_str("<td>");
                        escape_into(&mut html, text);
                    }
                    Cell::Number(shown) => {
                        html.push_str(r#"<td class="num">"#);
                        escape_into(&mut html, if shown.is_empty() { "—" } else { shown });
                    }
                    Cell::Keyed(shown, key) => {
                        let _ = write!(html, r#"<td class="num" data-sort="{key}">"#);
                        escape_into(&mut html, shown);
                    }
                }
                html.push_str("</td>");
            }
            html.push_str("</tr>");
        }
        html.push_str("</tbody></table>");
        html
    }
}

const STYLE: &str = "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1180px;color:#1d232a;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde3;padding-bottom:4px}\
.meta{color:#5b6672;margin:0 0 12px}table{border-collapse:collapse;margin:6px 0 12px;font-variant-numeric:tabular-nums}\
th,td{padding:3px 9px;border-bottom:1px solid #e6e9ed;text-align:left;white-space:nowrap}th{background:#f3f5f7;cursor:pointer;user-select:none}\
td.num{text-align:right}tr:hover td{background:#f8fafc}.scroll{max-height:480px;overflow:auto;border:1px solid #e6e9ed}.wide{overflow-x:auto}\
svg.chart{display:block;margin:8px 0;background:#fff}svg .grid{stroke:#eceff2}svg .plot{stroke:#c9d0d7}svg .tick,svg .legend{font-size:11px;fill:#5b6672}\
svg .chart-title{font-size:13px;font-weight:600;fill:#1d232a}svg .marker-label{font-size:11px;fill:#555}\
.note{color:#5b6672;margin:4px 0}.pos{color:#137333}.neg{color:#b3261e}";

/// Sorts a table on a click of a header, ascending then descending: by a cell's `data-sort`
/// key, else (a `num` cell) by the number its text starts with (an em dash sorts lowest), else
/// by text.
const SORT_SCRIPT: &str = "function charonKey(c){var k=c.dataset.sort;if(k!==undefined)return parseFloat(k);\
if(!c.classList.contains('num'))return undefined;var v=parseFloat(c.textContent);return isNaN(v)?-Infinity:v;}\
document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){\
var i=th.cellIndex,t=th.closest('table'),b=t.tBodies[0],r=Array.from(b.rows),d=th.dataset.dir==='asc'?-1:1;th.dataset.dir=d>0?'asc':'desc';\
r.sort(function(x,y){var a=x.cells[i],c=y.cells[i],p=charonKey(a),q=charonKey(c);\
if(p===undefined||q===undefined)return d*a.textContent.localeCompare(c.textContent);\
return p===q?0:d*(p<q?-1:1);});\
r.forEach(function(e){b.appendChild(e);});});});";

/// A whole page: `title`, then `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body>{body}<script>{SORT_SCRIPT}</script></body></html>\n",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_dates() {
        use charon_events::Timestamp;
        for nanos in [
            0,
            1_640_995_200_000_000_000, // 2022-01-01T00:00:00Z
            1_641_126_660_000_000_000, // 2022-01-02T12:31:00Z
            951_782_400_000_000_000,   // 2000-02-29T00:00:00Z
            4_102_444_799_250_000_000, // 2099-12-31T23:59:59.25Z
            -86_400_000_000_000,       // 1969-12-31
        ] {
            let ts = Timestamp::from_nanos(nanos);
            let rfc = ts.to_rfc3339();
            let expected = rfc.trim_end_matches('Z').replacen('T', " ", 1);
            let expected = match expected.split_once('.') {
                Some((whole, fraction)) => {
                    format!("{whole}.{:0<3}", &fraction[..fraction.len().min(3)])
                }
                None => expected,
            };
            assert_eq!(utc_time(ts), expected, "{rfc}");
        }
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn tables_carry_sort_keys_and_escape_cells() {
        let table = Table {
            id: "trades".into(),
            headers: vec!["pair".into(), "net p&l".into(), "length".into()],
            rows: vec![
                vec![
                    Cell::text("BTC<USDT>"),
                    Cell::number("-13.01"),
                    Cell::keyed("3h", 3),
                ],
                vec![
                    Cell::text("XRPUSDT"),
                    Cell::number(""),
                    Cell::keyed("1d", 24),
                ],
            ],
        };
        let html = table.render();
        assert!(html.contains("<th>net p&amp;l</th>"));
        assert!(html.contains(r#"<td class="num">-13.01</td>"#));
        assert!(html.contains(r#"<td class="num" data-sort="24">1d</td>"#));
        assert!(html.contains("<td>BTC&lt;USDT&gt;</td>"));
        assert!(html.contains(r#"<td class="num">—</td>"#));
        assert_eq!(html.matches("<tr>").count(), 3);
    }

    #[test]
    fn a_page_needs_nothing_from_the_network() {
        let html = page("Backtest <demo>", "<p>hi</p>");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>Backtest &lt;demo&gt;</title>"));
        for remote in ["http://", "https://", "src=", "<link"] {
            assert!(!html.contains(remote), "{remote}");
        }
    }
}
