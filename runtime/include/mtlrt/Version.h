/* Version.h: the runtime library's version string (C ABI). */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/** The runtime's version, "major.minor.patch". */
const char *mtlrt_version(void);

#ifdef __cplusplus
}
#endif
