// Version.cpp: the runtime's version, for `info` output and checkpoint metadata.
#include "mtlrt/Version.h"

extern "C" const char *mtlrt_version(void) { return "0.1.0"; }
