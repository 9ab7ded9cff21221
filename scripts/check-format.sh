#!/usr/bin/env bash
# check-format.sh: fails when any C++ file of the project is not clang-formatted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
git ls-files -co --exclude-standard '*.cpp' '*.h' | grep -v '^build' |
  xargs -r clang-format --dry-run --Werror
echo "clang-format: all files formatted"
