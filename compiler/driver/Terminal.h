// Terminal.h: colour policy for diagnostics and tables.
#pragma once

#include <cstdio>
#include <string>

namespace mtl::driver {

/// `--color=auto|always|never`; auto means colour only when `stream` is a terminal.
bool useColor(const std::string &mode, std::FILE *stream);

} // namespace mtl::driver
