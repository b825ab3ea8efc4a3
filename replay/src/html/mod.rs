//! The HTML report: one self-contained file (inline CSS, inline SVG charts, a few lines of
//! inline script to sort tables; no network needed to view it). This module owns the page's
//! building blocks; `chart` draws the SVG charts.

pub mod chart;
pub mod report;

use std::fmt::Write as _;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A cell's content and how it sorts and aligns.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    /// Shown as given, sorted by the number, right-aligned; `None` shows an em dash.
    Number(String, Option<f64>),
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Cell::Text(text.into())
    }

    pub fn number(shown: impl Into<String>, value: Option<f64>) -> Self {
        Cell::Number(shown.into(), value)
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
        let mut html = format!(
            r#"<table class="sortable" id="{}"><thead><tr>"#,
            escape(&self.id)
        );
        for header in &self.headers {
            let _ = write!(html, "<th>{}</th>", escape(header));
        }
        html.push_str("</tr></thead><tbody>");
        for row in &self.rows {
            html.push_str("<tr>");
            for cell in row {
                match cell {
                    Cell::Text(text) => {
                        let _ = write!(html, "<td>{}</td>", escape(text));
                    }
                    Cell::Number(shown, Some(value)) if value.is_finite() => {
                        let _ = write!(
                            html,
                            r#"<td class="num" data-sort="{value}">{}</td>"#,
                            escape(shown)
                        );
                    }
                    Cell::Number(shown, _) => {
                        let shown = if shown.is_empty() { "—" } else { shown };
                        let _ = write!(html, r#"<td class="num">{}</td>"#, escape(shown));
                    }
                }
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
td.num{text-align:right}tr:hover td{background:#f8fafc}.scroll{max-height:480px;overflow:auto;border:1px solid #e6e9ed}\
svg.chart{display:block;margin:8px 0;background:#fff}svg .grid{stroke:#eceff2}svg .plot{stroke:#c9d0d7}svg .tick,svg .legend{font-size:11px;fill:#5b6672}\
svg .chart-title{font-size:13px;font-weight:600;fill:#1d232a}.pos{color:#137333}.neg{color:#b3261e}";

const SORT_SCRIPT: &str = "document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){\
var i=th.cellIndex,t=th.closest('table'),b=t.tBodies[0],r=Array.from(b.rows),d=th.dataset.dir==='asc'?-1:1;th.dataset.dir=d>0?'asc':'desc';\
r.sort(function(x,y){var a=x.cells[i],c=y.cells[i],p=a.dataset.sort,q=c.dataset.sort;\
if(p===undefined&&q===undefined)return d*a.textContent.localeCompare(c.textContent);\
p=p===undefined?-Infinity:parseFloat(p);q=q===undefined?-Infinity:parseFloat(q);return p===q?0:d*(p<q?-1:1);});\
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
            headers: vec!["pair".into(), "net p&l".into()],
            rows: vec![
                vec![
                    Cell::text("BTC<USDT>"),
                    Cell::number("-13.01", Some(-13.01)),
                ],
                vec![Cell::text("XRPUSDT"), Cell::number("", None)],
            ],
        };
        let html = table.render();
        assert!(html.contains("<th>net p&amp;l</th>"));
        assert!(html.contains(r#"<td class="num" data-sort="-13.01">-13.01</td>"#));
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
