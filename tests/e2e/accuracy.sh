#!/usr/bin/env bash
# accuracy.sh: trains an example with its own settings (every epoch of its
# `train` block) and asserts floors on metrics read from the JSON log.
#
# Usage: accuracy.sh MTLC LOG_CHECK EXAMPLE PATH MIN [PATH MIN]...
# PATH names a number in the log (see log_check.cpp): `end.test.tasks.T.M` for
# the test set evaluated after training, `last.val.tasks.T.M` for the last
# epoch's validation split. Examples on Fashion-MNIST are skipped when the data
# set is not installed.
source "$(dirname "$0")/common.sh"
name=$1
shift
file=$examples/$name.mtl
if grep -q "$fashion" "$file" && ! have_fashion; then
  skip "$name needs $fashion (Debian package dataset-fashion-mnist)"
fi

start=$SECONDS
"$mtlc" train "$file" --log "$work/log.jsonl" >"$work/out.txt" 2>"$work/err.txt"
status=$?
echo "$name: trained in $((SECONDS - start)) s, exit status $status"
if [[ $status -ne 0 ]]; then
  fail "mtlc train $name exited with status $status"
  cat "$work/err.txt" >&2
  finish
fi
sed -n '/^'"$name"': /,$p' "$work/out.txt" # the summary, for the test's record
"$log_check" falls "$work/log.jsonl" || fail "$name: the training loss did not fall"
while [[ $# -ge 2 ]]; do
  "$log_check" at-least "$work/log.jsonl" "$1" "$2" || fail "$name: $1 is below $2"
  shift 2
done
finish
