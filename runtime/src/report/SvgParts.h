// SvgParts.h: what every chart of Plot.h shares: round-number axes, numbers, the frame, legends.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mtlrt::report {

/// An axis over [lo, hi] with ticks at multiples of a round step (1, 2 or 5
/// times a power of ten), and how many decimals its labels need.
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  int decimals = 0;
  bool scientific = false; ///< labels too large or small for fixed decimals

  /// The tick label of `value`: "0.25", "1200", "1.5e-07"; never "-0".
  std::string label(double value) const;
};

/// An axis about `target` ticks that covers [lo, hi]. `integer` keeps the
/// step whole (epochs); `extend` widens the range to the outer ticks (a y
/// axis), else the range is [lo, hi] itself. An empty range is widened
/// around its value.
Axis niceAxis(double lo, double hi, int target, bool integer, bool extend);

/// A pixel coordinate with one decimal, which is all a screen shows.
std::string px(double v);

/// About how wide `text` is at the charts' 11-pixel sans-serif font.
double textWidth(std::string_view text);

/// `text` cut to about `width` pixels, with "…" where it was cut.
std::string fitText(const std::string &text, double width);

/// The plotting area of a chart, in pixels.
struct Frame {
  double left, top, right, bottom;
  double width() const { return right - left; }
  double height() const { return bottom - top; }
};

/// The opening <svg> tag (with the xmlns that a standalone file needs),
/// its <title> and the visible title centred at the top.
std::string svgOpen(int width, int height, const std::string &title);

/// The y axis of `frame`: grid lines and tick labels at `axis`'s ticks, the
/// axis line, and `label` written upwards beside it. Moves the frame's left
/// edge right where the tick labels (1.45e+08) would run into the label.
std::string yAxisSvg(Frame &frame, const Axis &axis, const std::string &label);

/// A legend entry: a colour and a name, drawn as a line sample or a swatch.
struct LegendEntry {
  std::string name;
  int color = 0;
  bool dashed = false;
};

/// The legend in rows of entries that fit `width` pixels from x = `left`,
/// the first row's middle at `top` + 7; `height` receives the rows' height.
std::string legendSvg(const std::vector<LegendEntry> &entries, double left, double top,
                      double width, double &height);

} // namespace mtlrt::report
