//! The report's charts as inline SVG: a line chart over months and a horizontal bar chart, each
//! with its axes, tick labels, axis titles (with units) and a legend.

use std::fmt::Write as _;

use super::html::escape;

/// Series colours, in order (colour-blind safe, after Okabe and Ito).
const PALETTE: [&str; 8] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
];

const WIDTH: f64 = 880.0;
const LEFT: f64 = 76.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 52.0;
const FONT: &str = "font-family=\"system-ui, sans-serif\" font-size=\"12\" fill=\"#333\"";

/// One line of a [`line_chart`]: a name and one value per category, `None` for no value.
pub struct Series<'a> {
    /// The legend's text.
    pub name: &'a str,
    /// Values, one per category.
    pub values: Vec<Option<f64>>,
}

/// Axis titles, units included (e.g. "commits per month").
pub struct Axes<'a> {
    /// Under the horizontal axis.
    pub x: &'a str,
    /// Beside the vertical axis.
    pub y: &'a str,
}

/// How a [`line_chart`] draws its values.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineStyle {
    /// A logarithmic vertical axis (powers of ten), for values spanning orders of magnitude.
    pub log_scale: bool,
    /// A dot on every value, for series with many gaps.
    pub markers: bool,
}

/// A line chart with `months` (`YYYY-MM`) along the horizontal axis.
pub fn line_chart(
    title: &str,
    axes: &Axes,
    months: &[String],
    series: &[Series],
    style: LineStyle,
) -> String {
    let height = 320.0;
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, height - TOP - BOTTOM);
    let present = || {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
    };
    let max = present().fold(0.0_f64, f64::max);
    let ticks = if style.log_scale {
        log_ticks(
            present().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min),
            max,
        )
    } else {
        nice_ticks(max)
    };
    let (bottom_value, top_value) = (
        ticks.first().copied().unwrap_or(0.0),
        ticks.last().copied().unwrap_or(1.0),
    );
    let y = |v: f64| {
        let share = if style.log_scale {
            (v.max(bottom_value).log10() - bottom_value.log10())
                / (top_value.log10() - bottom_value.log10())
        } else {
            v / top_value
        };
        TOP + plot_h * (1.0 - share)
    };
    let x = |i: usize| {
        if months.len() < 2 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (months.len() - 1) as f64
        }
    };
    let mut svg = open(title, height);
    y_grid(&mut svg, &ticks, y, LEFT + plot_w);
    let every = label_every(months.len());
    for (i, month) in months.iter().enumerate() {
        let number: usize = month.get(5..).and_then(|m| m.parse().ok()).unwrap_or(1);
        if !number.saturating_sub(1).is_multiple_of(every) {
            continue;
        }
        let text = if every == 12 { &month[..4] } else { month };
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{b:.1}" x2="{x:.1}" y2="{t:.1}" stroke="#333"/><text x="{x:.1}" y="{ty:.1}" text-anchor="middle" {FONT}>{text}</text>"##,
            x = x(i),
            b = TOP + plot_h,
            t = TOP + plot_h + 5.0,
            ty = TOP + plot_h + 19.0,
        );
    }
    axis_lines(&mut svg, LEFT, TOP + plot_h, LEFT + plot_w, TOP);
    axis_titles(
        &mut svg,
        axes,
        LEFT + plot_w / 2.0,
        height - 10.0,
        TOP + plot_h / 2.0,
    );
    for (n, s) in series.iter().enumerate() {
        let colour = PALETTE[n % PALETTE.len()];
        for run in runs(&s.values) {
            let points: Vec<String> = run
                .iter()
                .map(|&(i, v)| format!("{:.1},{:.1}", x(i), y(v)))
                .collect();
            if run.len() > 1 {
                let _ = write!(
                    svg,
                    r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>"#,
                    points.join(" ")
                );
            }
            if style.markers || run.len() == 1 {
                for &(i, v) in &run {
                    let _ = write!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                        x(i),
                        y(v)
                    );
                }
            }
        }
    }
    legend(&mut svg, series.iter().map(|s| s.name));
    svg.push_str("</svg>");
    svg
}

/// A horizontal bar chart: one bar per label, the value written at its end.
pub fn bar_chart(title: &str, axes: &Axes, bars: &[(String, f64)]) -> String {
    let row = 24.0;
    let left = 230.0;
    let height = TOP + row * bars.len().max(1) as f64 + BOTTOM;
    let plot_w = WIDTH - left - RIGHT - 40.0;
    let plot_h = row * bars.len().max(1) as f64;
    let max = bars.iter().fold(0.0_f64, |a, b| a.max(b.1));
    let ticks = nice_ticks(max);
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let x = |v: f64| left + plot_w * v / top_value;
    let mut svg = open(title, height);
    for &t in &ticks {
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{b:.1}" stroke="#e4e4e4"/><text x="{x:.1}" y="{ty:.1}" text-anchor="middle" {FONT}>{t}</text>"##,
            x = x(t),
            b = TOP + plot_h + 5.0,
            ty = TOP + plot_h + 19.0,
            t = number(t),
        );
    }
    for (i, (label, value)) in bars.iter().enumerate() {
        let top = TOP + row * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{lx:.1}" y="{ty:.1}" text-anchor="end" {FONT}>{label}</text><rect x="{left}" y="{by:.1}" width="{w:.1}" height="{bh:.1}" fill="{c}"/><text x="{vx:.1}" y="{ty:.1}" {FONT}>{v}</text>"#,
            lx = left - 8.0,
            ty = top + row / 2.0 + 4.0,
            label = escape(&shorten(label, 32)),
            by = top + 4.0,
            w = x(*value) - left,
            bh = row - 8.0,
            c = PALETTE[0],
            vx = x(*value) + 4.0,
            v = number(*value),
        );
    }
    axis_lines(&mut svg, left, TOP + plot_h, left + plot_w, TOP);
    axis_titles(
        &mut svg,
        &Axes { x: axes.x, y: "" },
        left + plot_w / 2.0,
        height - 10.0,
        0.0,
    );
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="end" font-weight="600" {FONT}>{t}</text>"#,
        x = left - 8.0,
        y = TOP - 10.0,
        t = escape(axes.y)
    );
    svg.push_str("</svg>");
    svg
}

/// Round tick values from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten, about
/// five of them.
pub fn nice_ticks(max: f64) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let rough = max / 5.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    let count = (max / step).ceil() as usize;
    (0..=count.max(1)).map(|i| i as f64 * step).collect()
}

/// Powers of ten from at most `min` to at least `max` (both positive), at least two of them.
pub fn log_ticks(min: f64, max: f64) -> Vec<f64> {
    if !(min.is_finite() && max.is_finite() && min > 0.0 && max >= min) {
        return vec![1.0, 10.0];
    }
    let low = min.log10().floor() as i32;
    let high = (max.log10().ceil() as i32).max(low + 1);
    (low..=high).map(|p| 10f64.powi(p)).collect()
}

/// How many months apart the labels of the month axis are: 1, 2, 3, 6 or 12 (about twelve
/// labels at most).
pub fn label_every(months: usize) -> usize {
    [1, 2, 3, 6, 12]
        .into_iter()
        .find(|k| months.div_ceil(*k) <= 12)
        .unwrap_or(12)
}

/// Runs of consecutive present values, as (index, value).
fn runs(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut out: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => current.push((i, *v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn open(title: &str, height: f64) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    )
}

fn y_grid(svg: &mut String, ticks: &[f64], y: impl Fn(f64) -> f64, right: f64) {
    for &t in ticks {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="#e4e4e4"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end" {FONT}>{t}</text>"##,
            y = y(t),
            tx = LEFT - 8.0,
            ty = y(t) + 4.0,
            t = number(t),
        );
    }
}

fn axis_lines(svg: &mut String, left: f64, bottom: f64, right: f64, top: f64) {
    let _ = write!(
        svg,
        r##"<path d="M{left},{top} V{bottom} H{right}" fill="none" stroke="#333"/>"##
    );
}

fn axis_titles(svg: &mut String, axes: &Axes, x_mid: f64, x_base: f64, y_mid: f64) {
    let _ = write!(
        svg,
        r#"<text x="{x_mid:.1}" y="{x_base:.1}" text-anchor="middle" font-weight="600" {FONT}>{x}</text>"#,
        x = escape(axes.x)
    );
    if !axes.y.is_empty() {
        let _ = write!(
            svg,
            r#"<text transform="translate(16 {y_mid:.1}) rotate(-90)" text-anchor="middle" font-weight="600" {FONT}>{y}</text>"#,
            y = escape(axes.y)
        );
    }
}

fn legend<'a>(svg: &mut String, names: impl Iterator<Item = &'a str>) {
    let mut x = LEFT;
    for (n, name) in names.enumerate() {
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="10" width="14" height="4" fill="{c}"/><text x="{tx:.1}" y="16" {FONT}>{name}</text>"#,
            c = PALETTE[n % PALETTE.len()],
            tx = x + 20.0,
            name = escape(name),
        );
        x += 40.0 + 7.0 * name.chars().count() as f64;
    }
}

/// A tick or bar value: no decimals for whole numbers.
fn number(v: f64) -> String {
    if v.fract() == 0.0 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(0.0), [0.0, 1.0]);
        assert_eq!(nice_ticks(7.0), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(100.0), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_ticks(1234.0), [0.0, 500.0, 1000.0, 1500.0]);
        assert_eq!(
            log_ticks(3.0, 20_000.0),
            [1.0, 10.0, 100.0, 1000.0, 10_000.0, 100_000.0]
        );
        assert_eq!(log_ticks(0.5, 0.5), [0.1, 1.0]);
        assert_eq!(log_ticks(f64::INFINITY, 0.0), [1.0, 10.0]);
    }

    #[test]
    fn month_labels_thin_out_with_the_span() {
        assert_eq!(label_every(12), 1);
        assert_eq!(label_every(13), 2);
        assert_eq!(label_every(30), 3);
        assert_eq!(label_every(70), 6);
        assert_eq!(label_every(200), 12);
    }

    #[test]
    fn gaps_split_a_series_into_runs() {
        let r = runs(&[None, Some(1.0), Some(2.0), None, Some(3.0)]);
        assert_eq!(r, [vec![(1, 1.0), (2, 2.0)], vec![(4, 3.0)]]);
    }

    #[test]
    fn text_is_escaped_and_every_series_is_drawn() {
        let months = vec!["2020-01".to_string(), "2020-02".to_string()];
        let svg = line_chart(
            "a <b>",
            &Axes { x: "month", y: "n" },
            &months,
            &[
                Series {
                    name: "x&y",
                    values: vec![Some(1.0), Some(2.0)],
                },
                Series {
                    name: "z",
                    values: vec![None, Some(2.0)],
                },
            ],
            LineStyle::default(),
        );
        assert!(svg.contains("a &lt;b&gt;") && svg.contains("x&amp;y"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 1);
        let bars = bar_chart(
            "t",
            &Axes {
                x: "commits",
                y: "author",
            },
            &[("a".into(), 3.0)],
        );
        assert_eq!(bars.matches("<rect").count(), 1);
    }
}
