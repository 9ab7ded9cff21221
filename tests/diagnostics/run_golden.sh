#!/usr/bin/env bash
# run_golden.sh: runs `mtlc check` on every golden case and compares its output.
#
# Usage: run_golden.sh [--update] MTLC DIR [EXPECTED_STATUS]
#
# Every DIR/NAME.mtl is checked from inside DIR (so locations print as
# `NAME.mtl:line:col:`) and its stdout+stderr must equal DIR/NAME.expected.
# A DIR/NAME.gen.sh script instead writes NAME.mtl into a scratch folder (for
# inputs too large to commit); it is checked there the same way. The exit
# status must be EXPECTED_STATUS (1 for error cases, 0 for DIR = valid/); a
# status >= 128 is a crash and 124 a timeout (10 s). With --update the
# .expected files are rewritten instead (see update_golden.sh), and crashes
# and timeouts are still reported. Prints `N passed, M failed` last.
set -u

update=0
if [[ ${1:-} == --update ]]; then
  update=1
  shift
fi
if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 [--update] MTLC DIR [EXPECTED_STATUS]" >&2
  exit 2
fi
mtlc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(cd "$2" && pwd)
want_status=${3:-1}
if [[ ! -x $mtlc ]]; then
  echo "error: $mtlc is not an executable" >&2
  exit 2
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export NO_COLOR=1 LC_ALL=C

passed=0
failed=0
failures=()

# run_case NAME WORKDIR: checks WORKDIR/NAME.mtl against $dir/NAME.expected.
run_case() {
  local name=$1 work=$2
  local expected=$dir/$name.expected actual=$scratch/$name.actual status
  (cd "$work" && timeout 10 "$mtlc" check "$name.mtl") >"$actual" 2>&1
  status=$?
  local problem=""
  if [[ $status -eq 124 ]]; then
    problem="timed out after 10 s"
  elif [[ $status -ge 128 ]]; then
    problem="crashed (exit status $status, signal $((status - 128)))"
  elif [[ $status -ne $want_status ]]; then
    problem="exit status $status, expected $want_status"
  fi
  if [[ $update -eq 1 && -z $problem ]]; then
    cp "$actual" "$expected"
  elif [[ -z $problem && ! -f $expected ]]; then
    problem="missing $name.expected (run update_golden.sh)"
  elif [[ -z $problem ]] && ! cmp -s "$expected" "$actual"; then
    problem="output differs from $name.expected"
  fi
  if [[ -z $problem ]]; then
    passed=$((passed + 1))
    return
  fi
  failed=$((failed + 1))
  failures+=("$name")
  echo "FAIL: $name: $problem"
  if [[ -f $expected ]]; then
    diff -u --label "$name.expected" --label "$name (actual)" "$expected" "$actual" | head -n 60
  else
    head -n 60 "$actual"
  fi
}

shopt -s nullglob
for file in "$dir"/*.mtl; do
  run_case "$(basename "$file" .mtl)" "$dir"
done
for gen in "$dir"/*.gen.sh; do
  name=$(basename "$gen" .gen.sh)
  work=$scratch/gen-$name
  mkdir -p "$work"
  if ! bash "$gen" >"$work/$name.mtl"; then
    failed=$((failed + 1))
    failures+=("$name")
    echo "FAIL: $name: generator $name.gen.sh failed"
    continue
  fi
  run_case "$name" "$work"
done

if [[ $failed -gt 0 ]]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
