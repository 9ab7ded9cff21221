#!/usr/bin/env bash
# test.sh: the README's second command: every test, through ctest.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mtl_install_missing
mtl_build
ctest --test-dir "$MTL_BUILD" --output-on-failure -j "$(nproc)"
