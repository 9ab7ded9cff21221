// Terminal.cpp: terminal detection for the colour policy.
#include "driver/Terminal.h"

#include <cstdlib>
#include <unistd.h>

namespace mtl::driver {

bool useColor(const std::string &mode, std::FILE *stream) {
  if (mode == "always")
    return true;
  if (mode == "never")
    return false;
  const char *noColor = std::getenv("NO_COLOR");
  if (noColor && *noColor)
    return false;
  const char *term = std::getenv("TERM");
  if (term && std::string(term) == "dumb")
    return false;
  return isatty(fileno(stream)) != 0;
}

} // namespace mtl::driver
