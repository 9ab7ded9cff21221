// DataMutator.h: seeded mutations of data files for data_fuzz.cpp: bytes, CSV cells and lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace datafuzz {

/// splitmix64, as in mutation_fuzz.cpp: the same cases on every machine.
class Rng {
public:
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
  bool chance(unsigned percent) { return below(100) < percent; }

private:
  uint64_t state;
};

/// `bytes` compressed as one gzip member.
std::string gzipBytes(const std::string &bytes);

/// One byte-level mutation, for any file: a bit flipped, a byte replaced,
/// inserted or deleted, a range repeated, the file truncated, or a 32-bit
/// big-endian word (an IDX size) set to an edge value.
void mutateBytes(std::string &s, Rng &rng);

/// One mutation of delimited text separated by `sep`: a cell replaced by a
/// nasty token (nan, inf, 1e39, a quote, a control byte...), deleted or
/// repeated, quoted, scaled out of range or emptied; a header name
/// repeated; a line repeated, deleted or swapped; CRLF endings; a BOM or
/// blank line in front.
void mutateTable(std::string &s, char sep, Rng &rng);

} // namespace datafuzz
