#!/usr/bin/env bash
# script_status.sh: a piped REPL session's exit status says whether every input ran.
#
# Usage: script_status.sh MTLC REPO_ROOT
#
# - a script whose inputs all run exits 0 and says nothing on standard error;
# - one with failed inputs runs the rest, exits 1, and names on standard
#   error the line each failed input starts on (a multi-line item by its first);
# - --stop-on-error ends the script at its first failure;
# - a file given on the command line that does not load is a failure.
source "$(dirname "$0")/setup.sh" 2 "$@"

failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}
repl() { # runs the REPL with the arguments given, on standard input; sets status, out, err
  timeout 300 "$mtlc" repl --target-cpu x86-64-v2 "$@" >"$scratch/out" 2>"$scratch/err"
  status=$?
  out=$(<"$scratch/out")
  err=$(<"$scratch/err")
}

repl < <(printf '%s\n' ':load examples/penguins.mtl' ':set epochs 1' ':runs')
[[ $status == 0 ]] || fail "a script without failures: status $status"$'\n'"$out"
[[ -z $err ]] || fail "a script without failures wrote to standard error: $err"

script=(':load examples/penguins.mtl' ':set batch 0' ':set lr 0.01' 'task extra : classify {'
  '  head = nowhere -> dense(2)' '}' ':frobnicate' ':show tasks')
repl < <(printf '%s\n' "${script[@]}")
[[ $status == 1 ]] || fail "a script with failures: status $status, not 1"
expected="error: 3 inputs of the script failed: lines 2, 4, 7"
[[ $err == "$expected" ]] || fail "the failures are said as '$err', not '$expected'"
[[ $out == *"unknown command ':frobnicate'"* && $out == *"species"* ]] ||
  fail "the inputs after a failure did not all run:"$'\n'"$out"

repl --stop-on-error < <(printf '%s\n' "${script[@]}")
[[ $status == 1 ]] || fail "--stop-on-error: status $status, not 1"
[[ $err == "error: 1 input of the script failed: line 2" ]] ||
  fail "--stop-on-error says '$err'"
[[ $out != *"lr"* && $out != *"frobnicate"* ]] ||
  fail "--stop-on-error ran inputs after the first failure:"$'\n'"$out"

repl "$scratch/missing.mtl" < <(printf '%s\n' ':show tasks')
[[ $status == 1 && $err == "error: 2 inputs of the script failed: the file to load; line 1" ]] ||
  fail "a file that does not load: status $status, '$err'"
[[ $out == *"no model is loaded"* ]] || fail "after a file that does not load, :show tasks said: $out"

repl --stop-on-error "$scratch/missing.mtl" < <(printf '%s\n' ':show tasks')
[[ $status == 1 && $out != *"no model is loaded"* ]] ||
  fail "--stop-on-error ran a script after its file did not load: status $status"$'\n'"$out"

exit $failed
