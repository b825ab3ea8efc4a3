//! Time-series charts as inline SVG for the HTML report: one or more lines (or filled areas)
//! over event time, with a time axis, a value axis on "nice" ticks and a legend. A series of
//! any length is drawn with at most a few points per pixel column: each column keeps its
//! first, lowest, highest and last point, so no peak or trough (a drawdown's bottom) is lost.
//! The output is a pure function of the input, so reports are reproducible byte for byte.

use std::fmt::Write as _;

use charon_events::Timestamp;

use super::escape;

/// How the value axis labels its ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// An amount of the quote currency.
    Money,
    /// A percentage (values are already in percent).
    Percent,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    /// `(event time in UTC nanoseconds, value)`, in time order.
    pub points: Vec<(i64, f64)>,
    /// A CSS colour.
    pub color: &'static str,
    /// Fill the area between the line and zero (or the axis' edge nearest zero).
    pub area: bool,
}

#[derive(Debug, Clone)]
pub struct Chart {
    /// The SVG element's id, for links and tests.
    pub id: String,
    pub title: String,
    pub unit: Unit,
    pub width: u32,
    pub height: u32,
    pub series: Vec<Series>,
    /// Instants marked with a labelled vertical line (a walk-forward split's cut).
    pub markers: Vec<Marker>,
}

/// A labelled vertical line at an event time.
#[derive(Debug, Clone)]
pub struct Marker {
    /// UTC nanoseconds.
    pub at: i64,
    pub label: String,
}

const MARGIN_LEFT: f64 = 72.0;
const MARKER_COLOR: &str = "#555";
const MARGIN_RIGHT: f64 = 16.0;
const MARGIN_TOP: f64 = 28.0;
const MARGIN_BOTTOM: f64 = 30.0;

/// The plot's pixel box and the data ranges it maps.
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    t0: i64,
    t1: i64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn x(&self, t: i64) -> f64 {
        self.left + (t - self.t0) as f64 / (self.t1 - self.t0) as f64 * self.width
    }

    fn y(&self, v: f64) -> f64 {
        self.top + (self.y1 - v) / (self.y1 - self.y0) * self.height
    }
}

/// Renders `chart` as an `<svg>` element. A chart with no points says so instead of drawing.
pub fn render(chart: &Chart) -> String {
    let (width, height) = (f64::from(chart.width), f64::from(chart.height));
    let points = chart.series.iter().flat_map(|s| s.points.iter());
    let mut bounds: Option<(i64, i64, f64, f64)> = None;
    for &(t, v) in points.filter(|(_, v)| v.is_finite()) {
        bounds = Some(match bounds {
            None => (t, t, v, v),
            Some((t0, t1, lo, hi)) => (t0.min(t), t1.max(t), lo.min(v), hi.max(v)),
        });
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" id="{}" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}"><title>{}</title>"#,
        escape(&chart.id),
        escape(&chart.title),
        chart.width,
        chart.height,
        chart.width,
        chart.height,
        escape(&chart.title)
    );
    let _ = write!(
        svg,
        r#"<text class="chart-title" x="{MARGIN_LEFT}" y="18">{}</text>"#,
        escape(&chart.title)
    );
    let Some((t0, t1, lo, hi)) = bounds else {
        let _ = write!(
            svg,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">no data</text></svg>"#,
            width / 2.0,
            height / 2.0
        );
        return svg;
    };
    let ticks = value_ticks(lo, hi);
    let frame = Frame {
        left: MARGIN_LEFT,
        top: MARGIN_TOP,
        width: (width - MARGIN_LEFT - MARGIN_RIGHT).max(1.0),
        height: (height - MARGIN_TOP - MARGIN_BOTTOM).max(1.0),
        t0,
        t1: if t1 > t0 { t1 } else { t0 + 1 },
        y0: ticks.first().copied().unwrap_or(lo),
        y1: ticks.last().copied().unwrap_or(hi),
    };
    axes(&mut svg, &frame, &ticks, chart.unit);
    for series in &chart.series {
        draw(&mut svg, &frame, series);
    }
    for marker in &chart.markers {
        mark(&mut svg, &frame, marker);
    }
    legend(&mut svg, &frame, &chart.series);
    svg.push_str("</svg>");
    svg
}

fn axes(svg: &mut String, frame: &Frame, ticks: &[f64], unit: Unit) {
    let right = frame.left + frame.width;
    let bottom = frame.top + frame.height;
    for &tick in ticks {
        let y = frame.y(tick);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            frame.left,
            frame.left - 6.0,
            y + 4.0,
            escape(&format_value(tick, unit, ticks))
        );
    }
    for (t, label) in time_ticks(frame.t0, frame.t1) {
        let x = frame.x(t);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{bottom:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            frame.top,
            bottom + 18.0,
            escape(&label)
        );
    }
    let _ = write!(
        svg,
        r#"<rect class="plot" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none"/>"#,
        frame.left, frame.top, frame.width, frame.height
    );
}

fn draw(svg: &mut String, frame: &Frame, series: &Series) {
    let points = decimate(
        &series.points,
        frame.width.ceil() as usize,
        frame.t0,
        frame.t1,
    );
    let Some(&(first_t, _)) = points.first() else {
        return;
    };
    let mut path = String::with_capacity(points.len() * 14);
    for (i, &(t, v)) in points.iter().enumerate() {
        path.push_str(if i == 0 { "M" } else { " L" });
        push_tenths(&mut path, frame.x(t));
        path.push(',');
        push_tenths(&mut path, frame.y(v));
    }
    if series.area {
        let base = frame.y(0.0_f64.clamp(frame.y0, frame.y1));
        let last_t = points.last().map_or(first_t, |p| p.0);
        let _ = write!(
            svg,
            r#"<path class="area" d="{path} L{:.1},{base:.1} L{:.1},{base:.1} Z" fill="{}" fill-opacity="0.25" stroke="none"/>"#,
            frame.x(last_t),
            frame.x(first_t),
            series.color
        );
    }
    let _ = write!(
        svg,
        r#"<path class="series" data-label="{}" data-points="{}" d="{path}" fill="none" stroke="{}" stroke-width="1.5"/>"#,
        escape(&series.label),
        series.points.len(),
        series.color
    );
}

/// A dashed vertical line across the plot at `marker.at`, its label at the top; nothing for
/// an instant outside the plotted span.
fn mark(svg: &mut String, frame: &Frame, marker: &Marker) {
    if marker.at < frame.t0 || marker.at > frame.t1 {
        return;
    }
    let x = frame.x(marker.at);
    let _ = write!(
        svg,
        r#"<line class="marker" data-label="{label}" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{MARKER_COLOR}" stroke-dasharray="4 3"/><text class="marker-label" x="{:.1}" y="{:.1}">{label}</text>"#,
        frame.top,
        frame.top + frame.height,
        x + 4.0,
        frame.top + 12.0,
        label = escape(&marker.label),
    );
}

fn legend(svg: &mut String, frame: &Frame, series: &[Series]) {
    let mut x = frame.left + frame.width;
    for s in series.iter().rev() {
        x -= 24.0 + 8.0 * s.label.chars().count() as f64;
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="8" width="10" height="10" fill="{}"/><text class="legend" x="{:.1}" y="17">{}</text>"#,
            s.color,
            x + 13.0,
            escape(&s.label)
        );
    }
}

/// Appends `value` rounded to one decimal (`12.3`, `-0.5`), as `{:.1}` would but through
/// integer formatting: a chart's path is thousands of coordinates.
fn push_tenths(out: &mut String, value: f64) {
    let tenths = (value * 10.0).round() as i64;
    if tenths < 0 {
        out.push('-');
    }
    let magnitude = tenths.unsigned_abs();
    let _ = write!(out, "{}.{}", magnitude / 10, magnitude % 10);
}

/// At most four points per pixel column (first, lowest, highest, last, in time order), so a
/// long series draws in bounded size and every extreme survives. Non-finite values are left
/// out.
fn decimate(points: &[(i64, f64)], columns: usize, t0: i64, t1: i64) -> Vec<(i64, f64)> {
    if points.len() <= columns.saturating_mul(4) {
        return points.iter().copied().filter(|p| p.1.is_finite()).collect();
    }
    let scale = columns as f64 / (t1 - t0).max(1) as f64;
    let column_of = |t: i64| ((t - t0) as f64 * scale) as usize;
    let mut out = Vec::with_capacity(columns * 4 + 4);
    let mut i = 0;
    while i < points.len() {
        if !points[i].1.is_finite() {
            i += 1;
            continue;
        }
        let column = column_of(points[i].0);
        let (first, mut low, mut high, mut last) = (i, i, i, i);
        i += 1;
        while i < points.len() && column_of(points[i].0) == column {
            let value = points[i].1;
            if value.is_finite() {
                if value < points[low].1 {
                    low = i;
                }
                if value > points[high].1 {
                    high = i;
                }
                last = i;
            }
            i += 1;
        }
        let mut keep = [first, low, high, last];
        keep.sort_unstable();
        let mut previous = usize::MAX;
        for at in keep {
            if at != previous {
                out.push(points[at]);
                previous = at;
            }
        }
    }
    out
}

/// Five to ten round values spanning `[lo, hi]` (steps of 1, 2 or 5 × 10ⁿ), the first at or
/// below `lo` and the last at or above `hi`.
fn value_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.01 };
        (lo - pad, hi + pad)
    };
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() as i64;
    let last = (hi / step).ceil() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn format_value(value: f64, unit: Unit, ticks: &[f64]) -> String {
    let step = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => 1.0,
    };
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let value = if value.abs() < step / 2.0 { 0.0 } else { value };
    match unit {
        Unit::Money => format!("{value:.decimals$}"),
        Unit::Percent => format!("{value:.decimals$}%"),
    }
}

const MINUTE: i64 = 60_000_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Time ticks on round UTC boundaries, at most about eight, labelled by date (and time when
/// the step is under a day).
fn time_ticks(t0: i64, t1: i64) -> Vec<(i64, String)> {
    const STEPS: [i64; 12] = [
        MINUTE,
        5 * MINUTE,
        15 * MINUTE,
        HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
        14 * DAY,
        30 * DAY,
    ];
    let span = (t1 - t0).max(1);
    let step = STEPS
        .into_iter()
        .find(|&s| span / s <= 8)
        .unwrap_or_else(|| (span / 8 / (30 * DAY) + 1) * 30 * DAY);
    let mut t = t0.div_euclid(step) * step;
    if t < t0 {
        t += step;
    }
    let mut ticks = Vec::new();
    while t <= t1 {
        let text = Timestamp::from_nanos(t).to_rfc3339();
        let label = if step >= DAY {
            text.get(..10).unwrap_or(&text).to_string()
        } else {
            format!(
                "{} {}",
                text.get(5..10).unwrap_or(""),
                text.get(11..16).unwrap_or("")
            )
        };
        ticks.push((t, label));
        t += step;
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<(i64, f64)>) -> Chart {
        Chart {
            id: "equity".into(),
            title: "Equity <USDT>".into(),
            unit: Unit::Money,
            width: 600,
            height: 200,
            series: vec![Series {
                label: "bot & co".into(),
                points,
                color: "#1f77b4",
                area: false,
            }],
            markers: Vec::new(),
        }
    }

    #[test]
    fn a_marker_is_drawn_where_its_instant_falls_and_only_inside_the_span() {
        let mut marked = chart(vec![(0, 9_000.0), (1_000, 11_000.0)]);
        marked.markers = vec![
            Marker {
                at: 250,
                label: "cut <70:30>".into(),
            },
            Marker {
                at: 2_000,
                label: "after the end".into(),
            },
        ];
        let svg = render(&marked);
        // The plot spans x 72..584 for t 0..1000: t 250 lies a quarter in.
        let x = 72.0 + 0.25 * (600.0 - 72.0 - 16.0);
        assert!(
            svg.contains(&format!(
                r#"class="marker" data-label="cut &lt;70:30&gt;" x1="{x:.1}""#
            )),
            "{svg}"
        );
        assert_eq!(svg.matches(r#"class="marker""#).count(), 1, "{svg}");
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        // A fifth of the range is 235.1: the first of 100, 200, 500 at or above it is 500.
        let ticks = value_ticks(9_412.3, 10_587.9);
        assert_eq!(ticks, vec![9_000.0, 9_500.0, 10_000.0, 10_500.0, 11_000.0]);
        let ticks = value_ticks(-7.25, 0.0);
        assert_eq!(ticks.first(), Some(&-8.0));
        assert_eq!(ticks.last(), Some(&0.0));
        // A flat series still gets a range around its value.
        let flat = value_ticks(100.0, 100.0);
        assert!(flat.first().unwrap() < &100.0 && flat.last().unwrap() > &100.0);
    }

    #[test]
    fn points_map_into_the_plot_box() {
        // Two points on the axis' first and last ticks (9000..11000 by 500): the first at the
        // bottom-left corner, the last at the top-right one.
        let svg = render(&chart(vec![(0, 9_000.0), (DAY, 11_000.0)]));
        let d = svg.split(r#"class="series""#).nth(1).unwrap();
        let d = d.split(r#"d=""#).nth(1).unwrap().split('"').next().unwrap();
        // x: 72 (left margin) and 600 − 16 = 584; y: bottom (200 − 30 = 170) and top (28).
        assert_eq!(d, "M72.0,170.0 L584.0,28.0");
        assert!(svg.contains(r#"data-points="2""#));
    }

    #[test]
    fn coordinates_read_as_one_decimal_would() {
        for value in [
            0.0, 12.34, 12.35, -0.04, -0.06, -7.25, 1052.0, 584.96, -123.449,
        ] {
            let mut out = String::new();
            push_tenths(&mut out, value);
            let expected = format!("{:.1}", (value * 10.0_f64).round() / 10.0);
            let expected = if expected == "-0.0" {
                "0.0".to_string()
            } else {
                expected
            };
            assert_eq!(out, expected, "{value}");
        }
    }

    #[test]
    fn text_is_escaped() {
        let svg = render(&chart(vec![(0, 1.0), (HOUR, 2.0)]));
        assert!(svg.contains("Equity &lt;USDT&gt;"));
        assert!(svg.contains("bot &amp; co"));
        assert!(!svg.contains("<USDT>"));
    }

    #[test]
    fn an_empty_chart_says_so() {
        let svg = render(&chart(Vec::new()));
        assert!(svg.contains("no data"));
        assert!(!svg.contains("class=\"series\""));
    }

    #[test]
    fn decimation_bounds_the_points_and_keeps_every_extreme() {
        let points: Vec<(i64, f64)> = (0..100_000)
            .map(|i| (i * MINUTE, ((i * 7919) % 1000) as f64))
            .collect();
        let kept = decimate(&points, 500, 0, 99_999 * MINUTE);
        assert!(kept.len() <= 2_000, "{}", kept.len());
        let max = kept.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        let min = kept.iter().map(|p| p.1).fold(f64::MAX, f64::min);
        assert_eq!((min, max), (0.0, 999.0));
        assert!(kept.windows(2).all(|w| w[0].0 < w[1].0), "time order kept");
        assert_eq!(kept.first(), points.first());
        assert_eq!(kept.last(), points.last());
    }

    #[test]
    fn time_ticks_fall_on_round_utc_boundaries() {
        let t0 = 1_640_995_200_000_000_000; // 2022-01-01T00:00:00Z
        let ticks = time_ticks(t0 + 5 * HOUR, t0 + 31 * DAY);
        assert!(ticks.len() <= 8 && ticks.len() >= 4, "{ticks:?}");
        assert!(ticks.iter().all(|(t, _)| t % DAY == 0));
        assert_eq!(ticks[0].1.len(), 10, "dates: {:?}", ticks[0].1);
        let hours = time_ticks(t0, t0 + 6 * HOUR);
        assert_eq!(hours[0].1, "01-01 00:00");
    }
}
