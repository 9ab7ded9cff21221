// Progress.cpp: drawing the progress bar with carriage returns and ANSI line erase.
#include "mtlrt/Progress.h"

#include <fmt/format.h>
#include <string>
#include <unistd.h>

namespace mtlrt {

namespace {
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 24;

std::string rate(double perSecond) {
  if (perSecond >= 1e6)
    return fmt::format("{:.1f}M", perSecond / 1e6);
  if (perSecond >= 1e3)
    return fmt::format("{:.1f}k", perSecond / 1e3);
  return fmt::format("{:.0f}", perSecond);
}

// Whole seconds as a clock: "0:42", "12:05", "1:02:03".
std::string clock(double seconds) {
  auto s = int64_t(seconds + 0.5);
  if (s >= 3600)
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}
} // namespace

ProgressBar::ProgressBar(std::FILE *out) : out(out && isatty(fileno(out)) ? out : nullptr) {}

void ProgressBar::startEpoch(int64_t e, int64_t es, int64_t bs) {
  epochStart = Clock::now();
  if (started)
    stepsBefore += batches;
  else
    runStart = epochStart;
  started = true;
  epoch = e;
  epochs = es;
  batches = bs;
  lastDraw = epochStart;
}

void ProgressBar::update(int64_t done, double loss, int64_t rows) {
  if (!out)
    return;
  Clock::time_point now = Clock::now();
  if (drawn && now - lastDraw < kRedrawInterval)
    return;
  lastDraw = now;
  drawn = true;
  int filled = batches > 0 ? int(kBarWidth * done / batches) : kBarWidth;
  std::string bar(size_t(filled), '=');
  if (filled < kBarWidth)
    bar += '>' + std::string(size_t(kBarWidth - filled - 1), ' ');
  double seconds = std::chrono::duration<double>(now - epochStart).count();
  double perStep =
      std::chrono::duration<double>(now - runStart).count() / double(stepsBefore + done);
  int64_t stepsLeft = (epochs - epoch) * batches + batches - done;
  std::string line = fmt::format("\r\x1b[Kepoch {}/{} [{}] {}/{} loss {:.4f} {} samples/s ETA {}",
                                 epoch, epochs, bar, done, batches, loss,
                                 seconds > 0 ? rate(double(rows) / seconds) : std::string("-"),
                                 clock(perStep * double(stepsLeft)));
  std::fputs(line.c_str(), out);
  std::fflush(out);
}

void ProgressBar::finish() {
  if (!out || !drawn)
    return;
  std::fputs("\r\x1b[K", out);
  std::fflush(out);
  drawn = false;
}

} // namespace mtlrt
