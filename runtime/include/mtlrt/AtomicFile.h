// AtomicFile.h: writing a whole file so that a reader, or a crash, never sees half of it.
#pragma once

#include "mtlrt/Result.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace mtlrt {

/// Writes `bytes` to `path`, or to the file it names through symbolic links
/// (linkTarget), atomically: to "<file>.tmp-<pid>" (with the permissions of
/// the file it replaces), flushed and fsync'ed, renamed over the file, then
/// the directory fsync'ed. A process killed at any moment leaves either the
/// old file or the new one. Never replaces anything but a regular file:
/// fails with "PATH: cannot write WHAT: it exists and is not a regular
/// file (...)" on a device, FIFO, socket or folder, and with "PATH: cannot
/// write WHAT (STEP TMP): REASON", removing the temporary file.
Status writeFileAtomic(const std::string &path, std::string_view bytes, const char *what);

/// The file `path` names through symbolic links (a chain of them, relative or
/// absolute), which may not exist yet: a link is never replaced by what is
/// written "to" it. `path` itself when it is no link or a link cannot be read.
std::string linkTarget(const std::string &path);

/// Writes `bytes` to what `path` names, never replacing anything but a
/// regular file: a regular file (new, or reached through symbolic links)
/// atomically, as writeFileAtomic; an existing device or FIFO (/dev/null,
/// /dev/stdout, a pipe) by writing to it.
Status writeOutputFile(const std::string &path, std::string_view bytes, const char *what);

/// Fails with "FLAG OUTPUT: it is INPUT, which this command reads; write
/// elsewhere" when `output` names the same existing file as one of `inputs`
/// (by path, link or another spelling), so that no command writes over what
/// it reads; Ok otherwise.
Status distinctOutput(const std::string &output, const std::vector<std::string> &inputs,
                      const char *flag);

/// Fails with "FLAG OUTPUT: it exists and is not KIND; write elsewhere"
/// when `output` is a regular file that is not empty and does not begin
/// with one of `starts` (the first bytes every file of that kind has), so
/// that an output replaces only an earlier one of its kind, never a
/// checkpoint, a model or data; Ok otherwise.
Status replacesOnlyItsKind(const std::string &output,
                           std::initializer_list<std::string_view> starts, const char *flag,
                           const char *kind);

} // namespace mtlrt
