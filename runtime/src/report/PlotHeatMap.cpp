// PlotHeatMap.cpp: rows of coloured cells over epochs on a diverging scale (gradient cosines).
#include "mtlrt/Plot.h"
#include "report/SvgParts.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace mtlrt {
namespace {
using namespace report;

constexpr double kRowHeight = 20, kTop = 48, kBottom = 34, kLastWidth = 52;

// Red (−limit), near-white (0), blue (+limit): ColorBrewer's RdBu ends,
// which readers with red–green colour blindness still tell apart.
std::string cellColor(double v, double limit) {
  struct Rgb {
    double r, g, b;
  };
  constexpr Rgb kLow{178, 24, 43}, kMid{247, 247, 247}, kHigh{33, 102, 172};
  double t = std::clamp(v / limit, -1.0, 1.0);
  const Rgb &end = t < 0 ? kLow : kHigh;
  double a = std::fabs(t);
  auto mix = [&](double from, double to) { return int(std::lround(from + (to - from) * a)); };
  return fmt::format("#{:02X}{:02X}{:02X}", mix(kMid.r, end.r), mix(kMid.g, end.g),
                     mix(kMid.b, end.b));
}

std::string signedValue(double v) { return std::isfinite(v) ? fmt::format("{:+.2f}", v) : "-"; }

// The colour scale at the top right: swatches from −limit to +limit.
std::string scaleSvg(double right, double limit) {
  constexpr int kSwatches = 11;
  constexpr double kSwatch = 12;
  double left = right - kSwatches * kSwatch;
  std::string out;
  for (int k = 0; k < kSwatches; ++k) {
    double v = limit * (2.0 * k / (kSwatches - 1) - 1);
    out += fmt::format("<rect x=\"{}\" y=\"26\" width=\"{}\" height=\"8\" fill=\"{}\"/>",
                       px(left + k * kSwatch), px(kSwatch), cellColor(v, limit));
  }
  for (double v : {-limit, 0.0, limit})
    out += fmt::format("<text x=\"{}\" y=\"44\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
                       px(left + (v / limit + 1) / 2 * (kSwatches - 1) * kSwatch + kSwatch / 2),
                       v == 0 ? "0" : fmt::format("{:+g}", v));
  return out;
}

} // namespace

std::string heatMapSvg(const HeatMap &map) {
  const size_t rows = map.rows.size(), columns = map.columns.size();
  double labelWidth = 40;
  for (const std::string &row : map.rows)
    labelWidth = std::max(labelWidth, std::min(textWidth(row), 180.0));
  const int height = int(kTop + double(rows) * kRowHeight + kBottom);
  Frame f{labelWidth + 14, kTop, map.width - kLastWidth, kTop + double(rows) * kRowHeight};
  const double limit = map.limit > 0 ? map.limit : 1;
  std::string out = svgOpen(map.width, height, map.title);
  out += scaleSvg(f.right, limit);
  const double cell = f.width() / double(std::max<size_t>(columns, 1));
  for (size_t r = 0; r < rows; ++r) {
    const double y = f.top + double(r) * kRowHeight;
    out += fmt::format("<text x=\"{}\" y=\"{}\" dy=\"0.35em\" text-anchor=\"end\" "
                       "fill=\"#333\">{}</text>",
                       px(f.left - 6), px(y + kRowHeight / 2),
                       escapeXml(fitText(map.rows[r], labelWidth)));
    double last = NAN;
    for (size_t c = 0; c < columns && r * columns + c < map.values.size(); ++c) {
      last = map.values[r * columns + c];
      if (std::isfinite(last)) // a hair wider than the cell, so no seams show between cells
        out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                           px(f.left + double(c) * cell), px(y + 1), px(cell + 0.4),
                           px(kRowHeight - 2), cellColor(last, limit));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" dy=\"0.35em\" fill=\"#333\">{}</text>",
                       px(f.right + 6), px(y + kRowHeight / 2), signedValue(last));
  }
  if (columns > 0) {
    Axis x = niceAxis(map.columns.front(), map.columns.back(), 8, true, false);
    for (double t : x.ticks) {
      auto at = std::find(map.columns.begin(), map.columns.end(), t);
      if (at == map.columns.end())
        continue;
      double cx = f.left + (double(at - map.columns.begin()) + 0.5) * cell;
      out += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#555\"/>"
                         "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\" "
                         "fill=\"#333\">{4}</text>",
                         px(cx), px(f.bottom), px(f.bottom + 4), px(f.bottom + 15), x.label(t));
    }
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>"
                     "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">last</text>",
                     px((f.left + f.right) / 2), px(height - 5.0), escapeXml(map.xLabel),
                     px(f.right + kLastWidth / 2), px(f.top - 4));
  return out + "</svg>";
}

} // namespace mtlrt
