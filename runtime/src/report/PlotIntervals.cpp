// PlotIntervals.cpp: categories side by side, each a bar or dot at its mean with ± std error bars.
#include "mtlrt/Plot.h"
#include "report/SvgParts.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace mtlrt {
namespace {
using namespace report;

constexpr int kMarkColor = 3; // vermillion

// A number for a tooltip: enough digits to tell close means apart.
std::string value(double v) { return fmt::format("{:.4g}", v); }

} // namespace

std::string intervalChartSvg(const IntervalChart &chart) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const PlotInterval &item : chart.items) {
    if (!std::isfinite(item.mean))
      continue;
    double spread = std::isfinite(item.std) ? std::fabs(item.std) : 0;
    lo = std::min(lo, item.mean - spread);
    hi = std::max(hi, item.mean + spread);
  }
  std::string out = svgOpen(chart.width, chart.height, chart.title);
  Frame f{54, 30, chart.width - 14.0, chart.height - 30.0};
  if (lo > hi) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777\">no "
                       "values</text></svg>",
                       px((f.left + f.right) / 2), px((f.top + f.bottom) / 2));
    return out;
  }
  if (chart.bars) { // bars start at zero
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  hi = std::max(lo, std::min(hi, chart.yMax));
  Axis y = niceAxis(lo, hi, 5, false, true);
  auto sy = [&](double v) { return f.bottom - (v - y.lo) / (y.hi - y.lo) * f.height(); };
  out += yAxisSvg(f, y, chart.yLabel);
  const double slot = f.width() / double(std::max<size_t>(chart.items.size(), 1));
  const double barWidth = std::min(48.0, slot * 0.6), cap = std::min(10.0, barWidth * 0.5);
  for (size_t i = 0; i < chart.items.size(); ++i) {
    const PlotInterval &item = chart.items[i];
    const double cx = f.left + (double(i) + 0.5) * slot;
    const char *color = paletteColor(item.marked ? kMarkColor : item.color);
    out += fmt::format("<g><title>{}: {} ± {}{}</title>", escapeXml(item.label), value(item.mean),
                       value(item.std), item.tooltip.empty() ? "" : "; " + escapeXml(item.tooltip));
    if (std::isfinite(item.mean)) {
      if (chart.bars) {
        double top = sy(std::max(item.mean, 0.0)), bottom = sy(std::min(item.mean, 0.0));
        out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" "
                           "fill-opacity=\"0.85\"/>",
                           px(cx - barWidth / 2), px(top), px(barWidth), px(bottom - top), color);
      } else {
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"/>", px(cx),
                           px(sy(item.mean)), color);
      }
      double spread = std::isfinite(item.std) ? std::fabs(item.std) : 0;
      double top = sy(std::min(item.mean + spread, std::max(chart.yMax, item.mean)));
      double bottom = sy(item.mean - spread);
      if (spread > 0)
        out += fmt::format("<path d=\"M{0} {2} H{1} M{0} {3} H{1} M{4} {2} V{3}\" fill=\"none\" "
                           "stroke=\"#222\" stroke-width=\"1.4\"/>",
                           px(cx - cap / 2), px(cx + cap / 2), px(top), px(bottom), px(cx));
      if (item.marked)
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\" "
                           "font-weight=\"bold\">{}</text>",
                           px(cx), px(std::max(f.top + 2, top - 5)), color,
                           escapeXml(chart.markLabel));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text></g>",
                       px(cx), px(f.bottom + 15), escapeXml(fitText(item.label, slot - 2)));
  }
  // The zero line of bars that go below it, else the axis.
  out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#555\"/></svg>",
                     px(f.left), px(f.right), px(chart.bars ? sy(0) : f.bottom));
  return out;
}

} // namespace mtlrt
