//! The summary's chart, `<date>.svg`: one horizontal bar per case with a target (a
//! comparison's ratio, or an absolute figure over its ceiling) on a log scale, a black
//! mark at the target, green where it is met and red where not. A log scale because the
//! ratios span orders of magnitude, and a miss by 10× should look like one.

use std::path::Path;

use plotters::prelude::*;

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Scenario and case.
    pub label: String,
    /// The ratio (or figure over ceiling).
    pub value: f64,
    /// What the value is held to, on the same scale.
    pub target: f64,
    /// Whether the value meets the target.
    pub met: bool,
}

/// Pixels per bar, and the width of the label column.
const ROW: u32 = 26;
const LABELS: u32 = 460;

/// Writes the chart of `bars` (those with a finite positive value and target) to `path`.
pub fn write(path: &Path, title: &str, bars: &[Bar]) -> anyhow::Result<()> {
    let bars: Vec<&Bar> = bars
        .iter()
        .filter(|b| {
            [b.value, b.target]
                .iter()
                .all(|v| v.is_finite() && *v > 0.0)
        })
        .collect();
    let (lo, hi) = span(bars.iter().flat_map(|b| [b.value, b.target]));
    let root =
        SVGBackend::new(path, (LABELS + 560, 110 + ROW * bars.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(LABELS)
        .build_cartesian_2d(
            (lo..hi).log_scale(),
            // One segment per bar: a range of integers includes its end.
            (0..bars.len().max(1) - 1).into_segmented(),
        )?;
    // The first case on top, as in the summary's table.
    let row = |i: usize| bars.len() - 1 - i;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(bars.len())
        .label_style(("sans-serif", 13))
        .x_labels(12)
        .x_label_formatter(&|x| tick(*x))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if *i < bars.len() => bars[row(*i)].label.clone(),
            _ => String::new(),
        })
        .x_desc("Ferry / reference (absolute figures: figure / ceiling); black mark: target")
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(i, bar)| {
        let colour = if bar.met { GREEN } else { RED };
        let (from, to) = (SegmentValue::Exact(row(i)), SegmentValue::Exact(row(i) + 1));
        let mut rectangle = Rectangle::new(
            [(lo, from), (bar.value.clamp(lo, hi), to)],
            colour.mix(0.6).filled(),
        );
        rectangle.set_margin(4, 4, 0, 0);
        rectangle
    }))?;
    chart.draw_series(bars.iter().enumerate().map(|(i, bar)| {
        let (from, to) = (SegmentValue::Exact(row(i)), SegmentValue::Exact(row(i) + 1));
        PathElement::new(
            vec![(bar.target, from), (bar.target, to)],
            BLACK.stroke_width(2),
        )
    }))?;
    root.present()?;
    Ok(())
}

/// A tick's label: as many decimals as the value needs (0.02×, 0.5×, 3×, 20×).
fn tick(x: f64) -> String {
    let decimals = (-x.log10().floor()).max(0.0) as usize;
    format!("{x:.decimals$}×")
}

/// The axis around `values`, with room on both sides so that no bar end or target mark
/// sits on its edge (0.1 to 10 when there are none).
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !min.is_finite() {
        return (0.1, 10.0);
    }
    (min / 2.0, max * 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_leaves_room_around_the_values() {
        assert_eq!(span([0.0004, 2.0].into_iter()), (0.0002, 4.0));
        assert_eq!(span([1.0].into_iter()), (0.5, 2.0));
        assert_eq!(span(std::iter::empty()), (0.1, 10.0));
    }

    #[test]
    fn ticks_show_the_decimals_they_need() {
        assert_eq!(tick(0.02), "0.02×");
        assert_eq!(tick(0.30000000000000004), "0.3×");
        assert_eq!(tick(1.0), "1×");
        assert_eq!(tick(20.0), "20×");
    }

    #[test]
    fn writes_an_svg_with_every_label() {
        let path = std::env::temp_dir().join(format!("ferry-chart-{}.svg", std::process::id()));
        let bar = |label: &str, value, target, met| Bar {
            label: label.into(),
            value,
            target,
            met,
        };
        write(
            &path,
            "test",
            &[
                bar("a: fast", 0.9, 0.7, true),
                bar("b: slow", 12.0, 3.0, false),
            ],
        )
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("a: fast") && svg.contains("b: slow"), "{svg}");
    }
}
