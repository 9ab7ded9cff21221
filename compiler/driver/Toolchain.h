// Toolchain.h: turning a model's object code into a program (through the system's C++ driver) or a
// library.
#pragma once

#include <string>
#include <vector>

namespace mtl::driver {

/// The folder holding the runtime's static libraries (libmtl_runtime.a,
/// libmtl_program_main.a): $MTLC_RUNTIME_DIR if set, else `lib/mtlc` beside
/// the folder of an installed mtlc, else this build tree's runtime folder.
/// Empty, with `error` set, when none holds them.
std::string runtimeLibraryDir(std::string &error);

/// Links the object files at `objects` with the runtime into the executable
/// `output`, through $CXX or else `c++`. The C++ runtime, libgcc and zlib are
/// linked statically, so the program needs only the C library at run time.
/// False with `error` set (including the driver's own messages) on failure.
bool linkProgram(const std::vector<std::string> &objects, const std::string &runtimeDir,
                 const std::string &output, std::string &error);

/// Writes the static library `output`: the model's object code (as member
/// `objectName`) and every object of the runtime library.
bool writeModelLibrary(const std::string &objectBytes, const std::string &objectName,
                       const std::string &runtimeDir, const std::string &output,
                       std::string &error);

} // namespace mtl::driver
