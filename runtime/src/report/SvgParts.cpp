// SvgParts.cpp: axes at round numbers, escaping, the palette, legends: the pieces of every chart.
#include "report/SvgParts.h"

#include "mtlrt/Plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>

namespace mtlrt {

const char *paletteColor(int index) {
  // Okabe & Ito (2008), without its yellow, which is too pale on white.
  static constexpr std::array<const char *, 7> kColors = {
      "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"};
  const int n = int(kColors.size());
  return kColors[size_t(((index % n) + n) % n)];
}

std::string escapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

namespace report {

std::string Axis::label(double value) const {
  std::string text =
      scientific ? fmt::format("{:.3g}", value) : fmt::format("{:.{}f}", value, decimals);
  if (text.find_first_not_of("-0.") == std::string::npos && text[0] == '-')
    text.erase(0, 1); // -0.00 → 0.00
  return text;
}

Axis niceAxis(double lo, double hi, int target, bool integer, bool extend) {
  if (!(hi > lo)) {
    double pad = integer ? 0.5 : lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / std::max(target, 1);
  double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double fraction = raw / magnitude;
  double step = (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude;
  if (integer)
    step = std::max(1.0, std::round(step));
  Axis axis;
  double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
  if (extend) {
    first = std::floor(lo / step + 1e-9);
    last = std::ceil(hi / step - 1e-9);
    axis.lo = first * step;
    axis.hi = last * step;
  } else {
    axis.lo = lo;
    axis.hi = hi;
  }
  for (double k = first; k <= last; ++k)
    axis.ticks.push_back(k * step);
  double largest = std::max(std::fabs(axis.lo), std::fabs(axis.hi));
  axis.scientific = largest >= 1e6 || step < 1e-5;
  while (axis.decimals < 6) {
    double scaled = step * std::pow(10, axis.decimals);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * scaled)
      break;
    ++axis.decimals;
  }
  return axis;
}

std::string px(double v) { return fmt::format("{:.1f}", v); }

double textWidth(std::string_view text) {
  // Average advance of an 11 px sans-serif font; UTF-8 continuation bytes add nothing.
  double width = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      width += 6.2;
  return width;
}

std::string fitText(const std::string &text, double width) {
  if (textWidth(text) <= width)
    return text;
  std::string out;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && textWidth(out) + 12.4 > width)
      break;
    out += c;
  }
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0)
    out.pop_back(); // a lead byte whose continuation was cut
  return out + "…";
}

std::string svgOpen(int width, int height, const std::string &title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\" "
      "role=\"img\"><title>{2}</title><rect width=\"{0}\" height=\"{1}\" fill=\"#fff\"/>"
      "<text x=\"{3}\" y=\"17\" text-anchor=\"middle\" font-size=\"13\" "
      "font-weight=\"bold\">{4}</text>",
      width, height, escapeXml(title), px(width / 2.0),
      escapeXml(fitText(title, (width - 16) / 1.25))); // bold 13 px: about 1.25 times as wide
}

std::string yAxisSvg(Frame &f, const Axis &axis, const std::string &label) {
  double widest = 0;
  for (double t : axis.ticks)
    widest = std::max(widest, textWidth(axis.label(t)));
  f.left = std::max(f.left, widest + 5 + (label.empty() ? 4 : 20)); // gap, then the label's room
  std::string out;
  for (double t : axis.ticks) {
    double y = f.bottom - (t - axis.lo) / (axis.hi - axis.lo) * f.height();
    out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#e3e3e3\"/>"
                       "<text x=\"{3}\" y=\"{2}\" dy=\"0.35em\" text-anchor=\"end\" "
                       "fill=\"#333\">{4}</text>",
                       px(f.left), px(f.right), px(y), px(f.left - 5), axis.label(t));
  }
  out += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#555\"/>",
                     px(f.left), px(f.top), px(f.bottom));
  if (!label.empty())
    out += fmt::format("<text transform=\"translate(12 {}) rotate(-90)\" text-anchor=\"middle\" "
                       "fill=\"#333\">{}</text>",
                       px((f.top + f.bottom) / 2), escapeXml(fitText(label, f.height())));
  return out;
}

std::string legendSvg(const std::vector<LegendEntry> &entries, double left, double top,
                      double width, double &height) {
  constexpr double kSample = 18, kGap = 4, kSpacing = 14, kRow = 15;
  std::string out;
  double x = left, y = top + 7;
  for (const LegendEntry &e : entries) {
    std::string name = fitText(e.name, width - kSample - kGap);
    double w = kSample + kGap + textWidth(name);
    if (x > left && x + w > left + width) {
      x = left;
      y += kRow;
    }
    out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" "
                       "stroke-width=\"2.5\"{4}/><text x=\"{5}\" y=\"{2}\" dy=\"0.35em\" "
                       "fill=\"#333\">{6}</text>",
                       px(x), px(x + kSample), px(y), paletteColor(e.color),
                       e.dashed ? " stroke-dasharray=\"5 3\"" : "", px(x + kSample + kGap),
                       escapeXml(name));
    x += w + kSpacing;
  }
  height = entries.empty() ? 0 : y - top + kRow / 2;
  return out;
}

} // namespace report
} // namespace mtlrt
