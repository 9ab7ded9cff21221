// Version.cpp: the runtime's version, for `info` output and checkpoint metadata.
#include "mtlrt/Version.h"

const char *mtlrt::runtimeVersion() { return "0.1.0"; }
