#!/usr/bin/env bash
# two_programs.sh: mtlc runs check, fmt and shapes without loading LLVM and hands every
# other command to mtlc-llvm, beside it in the build tree or in lib/mtlc when installed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

build=$(cd "$(dirname "$mtlc")/.." && pwd)
model=$examples/penguins.mtl

# Only mtlc-llvm links LLVM's shared library. (ldd's output is read whole:
# `ldd | grep -q` fails under pipefail when grep stops reading early.)
front=$(ldd "$mtlc")
whole=$(ldd "$(dirname "$mtlc")/mtlc-llvm")
[[ $front == *libLLVM* ]] && fail "mtlc links LLVM: $front"
[[ $whole == *libLLVM* ]] || fail "mtlc-llvm does not link LLVM: $whole"

# mtlc alone, without mtlc-llvm: the front end's commands work and print what
# they print in the build tree; the others say what is missing.
mkdir -p alone
cp "$mtlc" alone/mtlc
for cmd in "check $model" "shapes $model" "fmt --check $model" "--color never check $model"; do
  # shellcheck disable=SC2086 # the words of $cmd are separate arguments
  "$mtlc" $cmd >expected.out 2>expected.err
  expected_status=$?
  # shellcheck disable=SC2086
  alone/mtlc $cmd >alone.out 2>alone.err
  status=$?
  [[ $status == "$expected_status" ]] || fail "mtlc $cmd alone: status $status, not $expected_status"
  cmp -s expected.out alone.out || fail "mtlc $cmd alone prints another output"
  cmp -s expected.err alone.err || fail "mtlc $cmd alone prints other diagnostics"
done
# -v times the stages these commands run.
"$mtlc" -v check "$model" 2>verbose.err || fail "mtlc -v check failed"
grep -q "^mtlc: parse " verbose.err && grep -q "^mtlc: sema " verbose.err ||
  fail "mtlc -v check prints no stage times: $(cat verbose.err)"
printf 'model m {\n  input x : f32[3]\n  task t : regress {\n    head = x -> dense(q)\n  }\n}\n' >bad.mtl
"$mtlc" check bad.mtl 2>expected.err
alone/mtlc check bad.mtl 2>alone.err
[[ $? == 1 ]] || fail "a bad model through mtlc check alone: not status 1"
grep -q "bad.mtl:4:" alone.err || fail "no located diagnostic from mtlc check alone: $(cat alone.err)"
cmp -s expected.err alone.err || fail "mtlc check alone diagnoses bad.mtl otherwise"
alone/mtlc train "$model" --epochs 1 >/dev/null 2>train.err
[[ $? == 1 ]] || fail "mtlc train without mtlc-llvm: not status 1"
grep -q "error: cannot run mtlc-llvm" train.err ||
  fail "mtlc train without mtlc-llvm says: $(cat train.err)"

# Everything else goes through mtlc-llvm: its help lists every command, and its
# status and output are the command's.
"$mtlc" --help >help.out || fail "mtlc --help failed"
for cmd in check shapes emit fmt build train experiment repl report; do
  grep -q "^  $cmd " help.out || fail "mtlc --help does not list $cmd"
done
"$mtlc" frobnicate >/dev/null 2>unknown.err
[[ $? == 2 ]] || fail "an unknown command: not status 2"
grep -q "unknown command 'frobnicate'" unknown.err || fail "unknown command says: $(cat unknown.err)"

# Installed: mtlc in bin, mtlc-llvm and the runtime in lib/mtlc.
cmake --install "$build" --prefix "$work/prefix" >/dev/null || fail "cmake --install failed"
[[ -x prefix/lib/mtlc/mtlc-llvm ]] || fail "mtlc-llvm is not installed in lib/mtlc"
prefix/bin/mtlc check "$model" || fail "installed mtlc check failed"
prefix/bin/mtlc train "$model" --epochs 1 --no-save -q >train.out 2>train.err ||
  fail "installed mtlc train failed: $(cat train.err)"
finish
