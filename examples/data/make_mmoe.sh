#!/bin/sh
# make_mmoe.sh: writes the synthetic two-task regression data of the MMoE
# paper (Ma et al. 2018, section 3.2) for examples/mmoe_synthetic.mtl.
#
#   sh examples/data/make_mmoe.sh RHO [ROWS] [SEED] > examples/data/mmoe_RHO.csv
#
# RHO in [-1, 1] sets how related the two tasks are. With d = 100 inputs:
#   u1, u2        two orthogonal unit vectors in R^d (Gram-Schmidt on normals)
#   w1 = c u1,    w2 = c (RHO u1 + sqrt(1 - RHO^2) u2),  c = 1
#   x ~ N(0, I_d)
#   y_t = w_t.x + sum_{i=1..m} sin(alpha_i w_t.x + beta_i) + eps_t,
#         m = 10, alpha_i, beta_i ~ N(0, 1) drawn once, eps_t ~ N(0, 0.01)
# so RHO is the cosine of the two tasks' directions; the sines make the
# label correlation lower than RHO. The vectors, alphas and betas depend on
# SEED only, not on RHO: files for several RHO differ only in w2. The
# random numbers come from the Park-Miller generator, exact in awk's doubles.
rho=${1:?usage: make_mmoe.sh RHO [ROWS] [SEED]}
rows=${2:-10000}
seed=${3:-11}
for n in "$rows" "$seed"; do
  case $n in
  '' | *[!0-9]*) echo "make_mmoe.sh: ROWS and SEED are whole numbers, got '$n'" >&2; exit 1 ;;
  esac
done
exec awk -v rho="$rho" -v rows="$rows" -v seed="$seed" '
function uniform() { state = (48271 * state) % 2147483647; return state / 2147483647 }
function normal(   u) { u = uniform(); return sqrt(-2 * log(u)) * cos(6.283185307179586 * uniform()) }
BEGIN {
  if (rho !~ /^-?([0-9]+\.?[0-9]*|\.[0-9]+)$/ || rho < -1 || rho > 1) {
    print "make_mmoe.sh: RHO must lie in [-1, 1], got " rho > "/dev/stderr"; exit 1
  }
  state = seed % 2147483646 + 1
  d = 100; m = 10
  n1 = 0; for (j = 0; j < d; j++) { u1[j] = normal(); n1 += u1[j] * u1[j] }
  for (j = 0; j < d; j++) u1[j] /= sqrt(n1)
  dot = 0; for (j = 0; j < d; j++) { u2[j] = normal(); dot += u2[j] * u1[j] }
  n2 = 0; for (j = 0; j < d; j++) { u2[j] -= dot * u1[j]; n2 += u2[j] * u2[j] }
  for (j = 0; j < d; j++) u2[j] /= sqrt(n2)
  for (j = 0; j < d; j++) { w1[j] = u1[j]; w2[j] = rho * u1[j] + sqrt(1 - rho * rho) * u2[j] }
  for (i = 0; i < m; i++) { alpha[i] = normal(); beta[i] = normal() }
  state = (seed * 7919 + 1) % 2147483646 + 1 # the rows: a stream of their own
  for (j = 0; j < d; j++) printf "x%d,", j
  print "y1,y2"
  for (r = 0; r < rows; r++) {
    z1 = 0; z2 = 0
    for (j = 0; j < d; j++) { x = normal(); printf "%.4f,", x; z1 += w1[j] * x; z2 += w2[j] * x }
    y1 = z1; y2 = z2
    for (i = 0; i < m; i++) { y1 += sin(alpha[i] * z1 + beta[i]); y2 += sin(alpha[i] * z2 + beta[i]) }
    printf "%.5f,%.5f\n", y1 + 0.1 * normal(), y2 + 0.1 * normal()
  }
}'
