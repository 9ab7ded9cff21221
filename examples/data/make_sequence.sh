#!/bin/sh
# make_sequence.sh: writes noisy sequences with three labels that depend on
# their order, for examples/sequence_gru.mtl.
#
#   sh examples/data/make_sequence.sh [ROWS] [SEED] > examples/data/sequence.csv
#
# Each row is 24 steps of two features, columns a0,b0,a1,b1,...,a23,b23
# (the row-major layout of an input f32[24, 2]), then the labels:
#   a_t = s_t + 0.5 e_t       a random walk seen through noise:
#         s_t = s_(t-1) + d + 0.25 u_t, s_(-1) ~ N(0, 1), drift d ~ U(-0.15, 0.15)
#   b_t ~ N(0, 1)             a second channel of noise
#   level   = s_23            the walk's last value, without the noise (regression)
#   rising  = 1 if d > 0      the sign of the drift (binary)
#   pattern = 1 if some b_t > 1 is followed at once by b_(t+1) < -1 (binary;
#             46% of the rows of the default file; the reverse order does not count)
# with e_t, u_t ~ N(0, 1). The random numbers come from the Park-Miller
# generator, exact in awk's doubles: the same arguments give the same file.
rows=${1:-8000}
seed=${2:-3}
for n in "$rows" "$seed"; do
  case $n in
  '' | *[!0-9]*) echo "make_sequence.sh: ROWS and SEED are whole numbers, got '$n'" >&2; exit 1 ;;
  esac
done
exec awk -v rows="$rows" -v seed="$seed" '
function uniform() { state = (48271 * state) % 2147483647; return state / 2147483647 }
function normal(   u) { u = uniform(); return sqrt(-2 * log(u)) * cos(6.283185307179586 * uniform()) }
BEGIN {
  state = seed % 2147483646 + 1
  steps = 24
  for (t = 0; t < steps; t++) printf "a%d,b%d,", t, t
  print "level,rising,pattern"
  for (r = 0; r < rows; r++) {
    d = 0.3 * uniform() - 0.15
    s = normal()
    pattern = 0
    for (t = 0; t < steps; t++) {
      s += d + 0.25 * normal()
      b = normal()
      if (t > 0 && prev > 1 && b < -1) pattern = 1
      prev = b
      printf "%.4f,%.4f,", s + 0.5 * normal(), b
    }
    printf "%.4f,%d,%d\n", s, (d > 0), pattern
  }
}'
