// PlotLines.cpp: line charts over epochs, with gaps where a value is missing.
#include "mtlrt/Plot.h"
#include "report/SvgParts.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <optional>

namespace mtlrt {
namespace {
using namespace report;

constexpr double kInf = std::numeric_limits<double>::infinity();

// The line's path, broken at missing values, and a dot for each point that
// has no finite neighbour to join. Of a joined run's points in one pixel
// column only the first, lowest, highest and last are drawn: what the eye
// sees of them, so that a curve of 200,000 epochs is a path of at most four
// points per column, not a page of megabytes.
std::string lineSvg(const PlotLine &line, const Frame &f, const Axis &x, const Axis &y) {
  auto sx = [&](double v) { return f.left + (v - x.lo) / (x.hi - x.lo) * f.width(); };
  auto sy = [&](double v) { return f.bottom - (v - y.lo) / (y.hi - y.lo) * f.height(); };
  const size_t n = std::min(line.x.size(), line.y.size());
  auto ok = [&](size_t i) { return i < n && std::isfinite(line.x[i]) && std::isfinite(line.y[i]); };
  std::string path, dots;
  struct Column {
    double at;       // the pixel column
    bool startsPath; // its first point starts a run (M), else joins the last (L)
    size_t first, low, high, last;
  };
  std::optional<Column> column;
  auto flush = [&] {
    if (!column)
      return;
    std::array<size_t, 4> drawn{column->first, column->low, column->high, column->last};
    std::sort(drawn.begin(), drawn.end());
    for (size_t k = 0; k < drawn.size(); ++k)
      if (k == 0 || drawn[k] != drawn[k - 1])
        path += fmt::format("{}{} {}",
                            k > 0 || !column->startsPath ? " L"
                            : path.empty()               ? "M"
                                                         : " M",
                            px(sx(line.x[drawn[k]])), px(sy(line.y[drawn[k]])));
    column.reset();
  };
  for (size_t i = 0; i < n; ++i) {
    if (!ok(i)) {
      flush();
      continue;
    }
    bool joinsLeft = i > 0 && ok(i - 1), joinsRight = ok(i + 1);
    if (!joinsLeft && !joinsRight) {
      flush();
      dots += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>", px(sx(line.x[i])),
                          px(sy(line.y[i])), paletteColor(line.color));
      continue;
    }
    const double at = std::floor(sx(line.x[i]));
    if (column && (column->at != at || !joinsLeft))
      flush();
    if (!column) {
      column = Column{at, !joinsLeft, i, i, i, i};
      continue;
    }
    column->last = i;
    column->low = line.y[i] < line.y[column->low] ? i : column->low;
    column->high = line.y[i] > line.y[column->high] ? i : column->high;
  }
  flush();
  std::string out;
  if (!path.empty())
    out +=
        fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" "
                    "stroke-linejoin=\"round\"{}/>",
                    path, paletteColor(line.color), line.dashed ? " stroke-dasharray=\"5 3\"" : "");
  return out + dots;
}

} // namespace

std::string lineChartSvg(const LineChart &chart) {
  double xlo = kInf, xhi = -kInf, ylo = kInf, yhi = -kInf;
  for (const PlotLine &line : chart.lines)
    for (size_t i = 0; i < std::min(line.x.size(), line.y.size()); ++i)
      if (std::isfinite(line.x[i]) && std::isfinite(line.y[i])) {
        xlo = std::min(xlo, line.x[i]);
        xhi = std::max(xhi, line.x[i]);
        ylo = std::min(ylo, line.y[i]);
        yhi = std::max(yhi, line.y[i]);
      }
  std::string out = svgOpen(chart.width, chart.height, chart.title);
  std::vector<LegendEntry> entries;
  for (const PlotLine &line : chart.lines)
    if (!line.name.empty())
      entries.push_back({line.name, line.color, line.dashed});
  double legendHeight = 0;
  out += legendSvg(entries, 54, 26, chart.width - 66, legendHeight);
  Frame f{54, 26 + legendHeight + (entries.empty() ? 6 : 8), chart.width - 14.0,
          chart.height - 34.0};
  if (xlo > xhi) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777\">no "
                       "values</text></svg>",
                       px((f.left + f.right) / 2), px((f.top + f.bottom) / 2));
    return out;
  }
  Axis x = niceAxis(xlo, xhi, 6, true, false);
  Axis y = niceAxis(ylo, yhi, 5, false, true);
  out += yAxisSvg(f, y, chart.yLabel);
  for (double t : x.ticks) {
    double sx = f.left + (t - x.lo) / (x.hi - x.lo) * f.width();
    // A label wider than the room right of its tick ("200000") ends at the
    // chart's edge instead of past it.
    const std::string label = x.label(t);
    const double at = std::min(sx, chart.width - 2 - textWidth(label) / 2);
    out += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#555\"/>"
                       "<text x=\"{5}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#333\">{4}</text>",
                       px(sx), px(f.bottom), px(f.bottom + 4), px(f.bottom + 15), label, px(at));
  }
  out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#555\"/>"
                     "<text x=\"{3}\" y=\"{4}\" text-anchor=\"middle\" fill=\"#333\">{5}</text>",
                     px(f.left), px(f.right), px(f.bottom), px((f.left + f.right) / 2),
                     px(chart.height - 5.0), escapeXml(chart.xLabel));
  for (const PlotLine &line : chart.lines)
    out += lineSvg(line, f, x, y);
  return out + "</svg>";
}

} // namespace mtlrt
