#!/usr/bin/env bash
# sanitize.sh: the unit and fuzz tests under AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Configures a second build folder ($MTL_SANITIZE_BUILD, default
# build-sanitize) with -DMTL_SANITIZE=ON, builds only what the tests
# labelled `unit` or `fuzz` need, and runs them. Any report (a memory error,
# a leak, undefined behaviour) ends its test with a failure. Optimised at
# -O0 with line tables: reports name file and line, and on the 2-core
# development machine the cold build and the tests together take less time
# than at -O1 (docs/testing.md has the numbers).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
MTL_SANITIZE_BUILD="${MTL_SANITIZE_BUILD:-$MTL_ROOT/build-sanitize}"

mtl_install_missing
echo "==> configuring and building the unit and fuzz tests with sanitizers in $MTL_SANITIZE_BUILD"
cmake -S "$MTL_ROOT" -B "$MTL_SANITIZE_BUILD" -G Ninja -DMTL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS_DEBUG="-O0 -g1" -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" >/dev/null
cmake --build "$MTL_SANITIZE_BUILD" -j "$(nproc)" --target unit_and_fuzz_tests

# Reports stop the process (UBSan's too: -fno-sanitize-recover), with a stack.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$MTL_SANITIZE_BUILD" --output-on-failure -j "$(nproc)" -L 'unit|fuzz'
