// Plot.h: small SVG charts written by our own code: lines over epochs, intervals, heat maps.
//
// The HTML reports (HtmlReport.h) and the REPL's `:plot --svg` draw with
// these. Each function returns one self-contained <svg> element (valid on
// its own as a file, or inline in HTML) with a title, axes with tick labels
// and, where there is more than one series, a legend. Colours come from the
// Okabe–Ito palette, which stays distinct under the common colour-vision
// deficiencies.
#pragma once

#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace mtlrt {

/// One line of a LineChart: the point (x[i], y[i]) for each i. A NaN or
/// infinite y is a missing value: the line has a gap there, and a point with
/// no finite neighbour is drawn as a dot (so a one-epoch run still shows).
struct PlotLine {
  std::string name; ///< its legend entry
  std::vector<double> x, y;
  int color = 0;       ///< index into the palette (paletteColor)
  bool dashed = false; ///< drawn dashed (validation beside training, say)
};

/// A chart of lines over a shared x axis (epochs, usually).
struct LineChart {
  std::string title, xLabel = "epoch", yLabel;
  std::vector<PlotLine> lines;
  int width = 360, height = 240; ///< pixels, legend included
};

/// The chart as an <svg> element; the y axis spans the finite values (a
/// chart without any shows "no values"), the x axis the lines' x values,
/// with tick labels at round numbers (whole ones on the x axis).
std::string lineChartSvg(const LineChart &chart);

/// One category of an IntervalChart: its mean and ± its standard deviation.
struct PlotInterval {
  std::string label;   ///< under the axis (shortened to fit; in full in the tooltip)
  std::string tooltip; ///< extra text shown on hover, after the numbers
  double mean = 0, std = 0;
  int color = 0;
  bool marked = false; ///< drawn in the palette's vermillion, with `markLabel` above it
};

/// Categories side by side, each a bar (or a dot) at its mean with an error
/// bar of ± one standard deviation.
struct IntervalChart {
  std::string title, yLabel, markLabel = "chosen";
  std::vector<PlotInterval> items;
  bool bars = true; ///< bars from zero; else dots, and the y axis fits the intervals
  int width = 360, height = 240;
  /// The largest value the measure can take (1 for an accuracy): the axis
  /// and the error bars stop there.
  double yMax = std::numeric_limits<double>::infinity();
};

/// The chart as an <svg> element: the y axis holds every mean ± std (and
/// zero, with bars); a category without a finite mean is left empty.
std::string intervalChartSvg(const IntervalChart &chart);

/// A grid of colours: one row per label, one column per x value (epochs),
/// coloured on a diverging scale centred on zero (red below, blue above)
/// over ± `limit`; NaN cells stay blank. The last column's value is written
/// at each row's end.
struct HeatMap {
  std::string title, xLabel = "epoch";
  std::vector<std::string> rows;
  std::vector<double> columns;
  std::vector<double> values; ///< rows × columns, row-major
  double limit = 1;           ///< the scale's end; values beyond it take its colour
  int width = 760;
};

/// The map as an <svg> element, its height set by the number of rows.
std::string heatMapSvg(const HeatMap &map);

/// The palette's colour `index` (modulo its size) as "#RRGGBB".
const char *paletteColor(int index);

/// `text` with & < > " ' written as XML entities, for text and attributes.
std::string escapeXml(std::string_view text);

} // namespace mtlrt
