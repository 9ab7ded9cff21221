#!/usr/bin/env bash
# run_repl.sh: pipes every scripted REPL session into `mtlc repl` and compares the transcript.
#
# Usage: run_repl.sh [--update] MTLC CASES_DIR REPO_ROOT
#
# Each CASES_DIR/NAME.txt is fed to `mtlc repl --target-cpu x86-64-v2` on
# standard input, from REPO_ROOT (so sessions load examples/... by relative
# path), with `$SCRATCH` replaced by an empty directory of its own (and
# shown as `$SCRATCH` again in the transcript) for the files a session writes;
# process ids in temporary file names are masked too (`.tmp-PID`), and so is
# REPO_ROOT in the absolute data paths the runtime prints (`REPO_ROOT/examples/...`
# -> `examples/...`). Its stdout+stderr, with times masked (`12.3 ms` -> `N ms`,
# `4.5 µs/step` -> `N µs/step`), must equal CASES_DIR/NAME.expected. A fixed
# target CPU keeps the numbers of a transcript the same on every x86-64 host.
# The transcript ends with the session's exit status (`[exit status N]`): 1
# where an input failed, 0 otherwise; any other status fails the case.
# With --update the .expected files are rewritten. Prints `N passed, M failed`.
set -u

update=0
if [[ ${1:-} == --update ]]; then
  update=1
  shift
fi
if [[ $# -ne 3 ]]; then
  echo "usage: $0 [--update] MTLC CASES_DIR REPO_ROOT" >&2
  exit 2
fi
mtlc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(cd "$2" && pwd)
root=$(cd "$3" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export NO_COLOR=1 LC_ALL=C.UTF-8 HOME=$scratch

passed=0
failed=0
for script in "$dir"/*.txt; do
  name=$(basename "$script" .txt)
  actual=$scratch/$name.actual
  mkdir -p "$scratch/$name"
  # An empty on-disk cache per session, so the counts of compiled functions
  # in the transcript do not depend on which sessions ran before.
  (cd "$root" && export MTLC_CACHE_DIR=$scratch/cache/$name && sed "s|\$SCRATCH|$scratch/$name|g" "$script" |
    timeout 300 "$mtlc" repl --target-cpu x86-64-v2) 2>&1 |
    sed -E "s|$scratch/$name|\$SCRATCH|g; s|$root/||g; s/\.tmp-[0-9]+/.tmp-PID/g" |
    sed -E 's/ *[0-9]+(\.[0-9]+)? ms/ N ms/g; s/ *[0-9]+(\.[0-9]+)? µs/ N µs/g' >"$actual"
  status=${PIPESTATUS[0]}
  echo "[exit status $status]" >>"$actual"
  problem=""
  if [[ $status -ne 0 && $status -ne 1 ]]; then
    problem="exit status $status"
  elif [[ $update -eq 1 ]]; then
    cp "$actual" "$dir/$name.expected"
  elif [[ ! -f $dir/$name.expected ]]; then
    problem="missing $name.expected (run with --update)"
  elif ! cmp -s "$dir/$name.expected" "$actual"; then
    problem="transcript differs from $name.expected"
  fi
  if [[ -z $problem ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name: $problem"
    [[ -f $dir/$name.expected ]] &&
      diff -u --label "$name.expected" --label "$name (actual)" "$dir/$name.expected" "$actual" |
      head -n 80
  fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
