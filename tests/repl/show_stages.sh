#!/usr/bin/env bash
# show_stages.sh: `:show ir|grad|opt|llvm|asm` in a piped REPL session print each stage's dump.
#
# Usage: show_stages.sh MTLC REPO_ROOT
#
# These dumps depend on the LLVM version and the host CPU, so they are not
# golden transcripts: the test checks that each one appears, with a line only
# that stage prints, and that the session ends normally.
source "$(dirname "$0")/setup.sh" 2 "$@"

out=$(printf '%s\n' ':load examples/two_classifiers.mtl' ':show ir' ':show grad' ':show opt' \
  ':show llvm' ':show asm' ':quit' | timeout 300 "$mtlc" repl 2>&1)
status=$?
failed=0
expect() {
  if ! grep -qE -- "$1" <<<"$out"; then
    echo "FAIL: no line matching '$1' ($2)"
    failed=1
  fi
}
[[ $status -eq 0 ]] || { echo "FAIL: exit status $status"; failed=1; }
expect '^mtl> :show ir$' "the echoed command"
expect 'cross_entropy|log_softmax' "the IR's loss ops"
expect 'matmul' "the gradient's products (grad, opt)"
expect '^define .*@mtl\.grad_step' "the LLVM module"
expect '^mtl\.grad_step:' "the assembly"
expect '^mtl> :quit$' "the session reached its end"
if grep -q 'error' <<<"$out"; then
  echo "FAIL: an error was printed"
  grep -n 'error' <<<"$out" | head
  failed=1
fi
[[ $failed -eq 0 ]] && echo "ok: every stage dump appeared"
exit $failed
