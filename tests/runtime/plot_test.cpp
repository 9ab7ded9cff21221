// plot_test.cpp: the SVG charts: round axes, gaps and dots, escaping, error bars, heat-map cells.
#include "WellFormed.h"
#include "mtlrt/Plot.h"
#include "report/SvgParts.h"

#include <gtest/gtest.h>

#include <cstdio>

#include <cmath>

using namespace mtlrt;

namespace {

int count(const std::string &text, const std::string &what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

// The chart is one well-formed <svg> element.
void expectOneSvg(const std::string &svg) {
  mtltest::XmlCheck check = mtltest::checkXml(svg);
  EXPECT_EQ(check.error, "");
  EXPECT_EQ(check.counts["svg"], 1);
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_TRUE(svg.ends_with("</svg>"));
}

} // namespace

TEST(Plot, AxesTickAtRoundNumbers) {
  report::Axis y = report::niceAxis(0.13, 0.97, 5, false, true);
  EXPECT_DOUBLE_EQ(y.lo, 0);
  EXPECT_DOUBLE_EQ(y.hi, 1);
  ASSERT_EQ(y.ticks.size(), 6u);
  EXPECT_EQ(y.label(y.ticks[1]), "0.2");
  // Epochs: whole steps inside [1, 30], the range itself kept.
  report::Axis x = report::niceAxis(1, 30, 6, true, false);
  EXPECT_DOUBLE_EQ(x.lo, 1);
  EXPECT_DOUBLE_EQ(x.hi, 30);
  EXPECT_EQ(x.ticks, (std::vector<double>{5, 10, 15, 20, 25, 30}));
  EXPECT_EQ(x.label(5), "5");
  // One epoch: one tick, at it.
  EXPECT_EQ(report::niceAxis(1, 1, 6, true, false).ticks, std::vector<double>{1});
  // A constant series still gets a range; no label reads "-0".
  report::Axis flat = report::niceAxis(0, 0, 5, false, true);
  EXPECT_LT(flat.lo, 0);
  EXPECT_GT(flat.hi, 0);
  EXPECT_EQ(report::niceAxis(-1, 1, 5, false, true).label(-0.0), "0.0");
  EXPECT_TRUE(report::niceAxis(1e-7, 3e-7, 5, false, true).scientific);
}

TEST(Plot, LinesSpanTheFrameAndBreakAtMissingValues) {
  LineChart chart;
  chart.title = "loss";
  chart.lines.push_back({"training", {1, 2, 3, 4, 5}, {1, 0.5, NAN, 0.25, 0}, 0, false});
  std::string svg = lineChartSvg(chart);
  expectOneSvg(svg);
  // Epoch 1 at the frame's left (x = 54), epoch 5 at its right (width − 14);
  // the gap at epoch 3 starts a second piece; the lone point at 4 joins 5.
  EXPECT_NE(svg.find("d=\"M54.0 "), std::string::npos) << svg;
  EXPECT_NE(svg.find(" M273.0 "), std::string::npos) << svg;
  EXPECT_NE(svg.find(" L346.0 "), std::string::npos) << svg;
  EXPECT_EQ(count(svg, "<circle"), 0);
  EXPECT_NE(svg.find(">training</text>"), std::string::npos);
  EXPECT_NE(svg.find(">epoch</text>"), std::string::npos);
}

TEST(Plot, ALongCurveDrawsAtMostFourPointsAPixelColumnAndKeepsItsExtremes) {
  // 30 epochs: every point drawn.
  LineChart few;
  few.lines.push_back({"", {}, {}, 0, false});
  for (int e = 1; e <= 30; ++e) {
    few.lines[0].x.push_back(e);
    few.lines[0].y.push_back(1.0 / e);
  }
  std::string svg = lineChartSvg(few);
  EXPECT_EQ(count(svg, " L") + count(svg, "d=\"M"), 30);
  // 200,000 epochs of a noisy curve: a few points per pixel column, the
  // highest and the lowest among them (the frame's top and bottom).
  LineChart many;
  many.lines.push_back({"", {}, {}, 0, false});
  for (int e = 1; e <= 200000; ++e) {
    many.lines[0].x.push_back(e);
    many.lines[0].y.push_back(e == 77777 ? 5.0 : e == 123456 ? -5.0 : double(e % 7) / 7);
  }
  svg = lineChartSvg(many);
  expectOneSvg(svg);
  const size_t points = count(svg, " L") + 1;
  EXPECT_LE(points, 4u * 300) << points;
  EXPECT_GE(points, 2u * 290) << points;
  EXPECT_LT(svg.size(), 40000u);
  // The last tick's label, 200000, ends inside the chart, not past its edge.
  const size_t label = svg.rfind("\">200000</text>");
  ASSERT_NE(label, std::string::npos);
  double labelX = 0;
  ASSERT_EQ(std::sscanf(svg.c_str() + svg.rfind("x=\"", label), "x=\"%lf", &labelX), 1);
  EXPECT_LE(labelX + report::textWidth("200000") / 2, 360.0);
  // The y axis spans [-5, 5]: the peak and the trough are drawn at its ends.
  double top = 1e9, bottom = -1e9;
  for (size_t at = svg.find(" L"); at != std::string::npos; at = svg.find(" L", at + 2)) {
    double px = 0, py = 0;
    ASSERT_EQ(std::sscanf(svg.c_str() + at, " L%lf %lf", &px, &py), 2);
    top = std::min(top, py);
    bottom = std::max(bottom, py);
  }
  LineChart ends;
  ends.lines.push_back({"", {1, 2}, {5.0, -5.0}, 0, false});
  const std::string frame = lineChartSvg(ends);
  double t = 0, b = 0, x0 = 0, x1 = 0;
  ASSERT_EQ(
      std::sscanf(frame.c_str() + frame.find("d=\"M"), "d=\"M%lf %lf L%lf %lf", &x0, &t, &x1, &b),
      4);
  EXPECT_DOUBLE_EQ(top, t);
  EXPECT_DOUBLE_EQ(bottom, b);
}

TEST(Plot, ALonePointIsADot) {
  LineChart one;
  one.title = "one epoch";
  one.lines.push_back({"training", {1}, {0.7}, 0, false});
  std::string svg = lineChartSvg(one);
  expectOneSvg(svg);
  EXPECT_EQ(count(svg, "<circle"), 1);
  EXPECT_EQ(count(svg, "<path"), 0);
  // Between missing values, too.
  LineChart gaps;
  gaps.lines.push_back({"", {1, 2, 3}, {NAN, 0.5, NAN}, 1, true});
  EXPECT_EQ(count(lineChartSvg(gaps), "<circle"), 1);
  // Without any value, the chart says so.
  LineChart none;
  none.lines.push_back({"", {1, 2}, {NAN, INFINITY}, 0, false});
  std::string empty = lineChartSvg(none);
  expectOneSvg(empty);
  EXPECT_NE(empty.find(">no values</text>"), std::string::npos);
}

TEST(Plot, NamesAreEscaped) {
  EXPECT_EQ(escapeXml("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
  LineChart chart;
  chart.title = "</svg><script>";
  chart.yLabel = "a&b";
  chart.lines.push_back({"a<b", {1, 2}, {1, 2}, 0, false});
  std::string svg = lineChartSvg(chart);
  expectOneSvg(svg);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_NE(svg.find(">a&lt;b</text>"), std::string::npos);
}

TEST(Plot, IntervalsHaveErrorBarsAndAMark) {
  IntervalChart chart;
  chart.title = "species: accuracy";
  chart.items.push_back({"multi-task", "", 0.8, 0.1, 0, false});
  chart.items.push_back({"single-task", "", 0.6, 0.0, 1, true});
  std::string svg = intervalChartSvg(chart);
  expectOneSvg(svg);
  EXPECT_EQ(count(svg, "<rect x="), 2); // the bars (the background has no x)
  // One error bar: the other's std is 0. It spans 0.7 to 0.9 on an axis from 0 to 1.
  EXPECT_EQ(count(svg, "stroke=\"#222\""), 1);
  EXPECT_NE(svg.find(">chosen</text>"), std::string::npos);
  EXPECT_NE(svg.find(paletteColor(3)), std::string::npos);
  EXPECT_NE(svg.find("multi-task: 0.8 ± 0.1"), std::string::npos);
  // Dots fit the axis to the intervals instead of starting at zero.
  chart.bars = false;
  std::string dots = intervalChartSvg(chart);
  expectOneSvg(dots);
  EXPECT_EQ(count(dots, "<circle"), 2);
  EXPECT_EQ(dots.find(">0.0</text>"), std::string::npos);
  // An accuracy of 0.95 ± 0.1: the axis stops at the measure's ceiling.
  chart.items = {{"multi-task", "", 0.95, 0.1, 0, false}};
  auto topTick = [](const std::string &svg) {
    const std::string end = "text-anchor=\"end\" fill=\"#333\">";
    double top = -1e300;
    for (size_t at = svg.find(end); at != std::string::npos; at = svg.find(end, at + 1))
      top = std::max(top, std::stod(svg.substr(at + end.size())));
    return top;
  };
  EXPECT_GT(topTick(intervalChartSvg(chart)), 1.0);
  chart.yMax = 1;
  EXPECT_DOUBLE_EQ(topTick(intervalChartSvg(chart)), 1.0);
}

TEST(Plot, WideTickLabelsMoveTheAxisClearOfItsLabel) {
  LineChart chart;
  chart.title = "mse";
  chart.yLabel = "mse";
  chart.lines.push_back({"validation", {1, 2, 3}, {1.45e8, 1.5e8, 1.55e8}, 1, true});
  const std::string svg = lineChartSvg(chart);
  expectOneSvg(svg);
  // The tick labels end right of where a frame of narrow labels puts them
  // (54 - 5), leaving the rotated label its room.
  const size_t tick = svg.find("dy=\"0.35em\" text-anchor=\"end\"");
  ASSERT_NE(tick, std::string::npos);
  const size_t text = svg.rfind("<text x=\"", tick);
  EXPECT_GT(std::stod(svg.substr(text + 9)), 49.0) << svg.substr(0, 800);
}

TEST(Plot, HeatMapColoursEveryKnownCell) {
  HeatMap map;
  map.title = "cosines";
  map.rows = {"a / b", "a / c"};
  map.columns = {1, 2, 3};
  map.values = {0.5, -0.5, NAN, 0.0, 1.0, 0.5};
  map.limit = 0.5;
  std::string svg = heatMapSvg(map);
  expectOneSvg(svg);
  // 5 cells and the 11 swatches of the scale.
  EXPECT_EQ(count(svg, "<rect x="), 5 + 11);
  EXPECT_NE(svg.find("fill=\"#2166AC\""), std::string::npos); // +limit and beyond: blue
  EXPECT_NE(svg.find("fill=\"#B2182B\""), std::string::npos); // −limit: red
  EXPECT_NE(svg.find("fill=\"#F7F7F7\""), std::string::npos); // zero: near white
  // Each row's last value at its end; row 1's last is missing.
  EXPECT_NE(svg.find(">-<"), std::string::npos);
  EXPECT_NE(svg.find(">+0.50<"), std::string::npos);
}
