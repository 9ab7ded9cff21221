#!/usr/bin/env bash
# update_golden.sh: rewrites the .expected files from what mtlc prints now.
#
# Usage: update_golden.sh MTLC [TESTS_DIAGNOSTICS_DIR]
# Regenerates cases/ (exit status 1) and valid/ (exit status 0). Review the
# diff of every rewritten file before committing it: a golden is a claim that
# the message is right, not a record of whatever mtlc said.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -lt 1 ]]; then
  echo "usage: $0 MTLC [DIR]" >&2
  exit 2
fi
root=${2:-$here}
status=0
bash "$here/run_golden.sh" --update "$1" "$root/cases" 1 || status=1
bash "$here/run_golden.sh" --update "$1" "$root/valid" 0 || status=1
exit $status
