# corpus_helpers.sh: what the data corpus scripts share (sourced after common.sh).

cases=0

# expect_fail WHAT PATTERN COMMAND...: runs COMMAND (60 s at most) and asserts
# exit status 1, a line matching the extended regex PATTERN, and no sign of a
# crash or of a sanitizer's report.
expect_fail() {
  local what=$1 pattern=$2
  shift 2
  ((cases++))
  timeout 60 "$@" >"$work/out.txt" 2>&1
  local status=$?
  echo "--- $what (exit status $status): $(head -n 1 "$work/out.txt")"
  if [[ $status -eq 124 ]]; then
    fail "$what: no answer within 60 s"
  elif [[ $status -ne 1 ]]; then
    fail "$what: exit status $status, expected 1"
  fi
  if ! grep -Eq "$pattern" "$work/out.txt"; then
    fail "$what: no message matching /$pattern/; got: $(head -n 3 "$work/out.txt")"
  fi
  if grep -Eqi 'internal|terminate called|assert|segmentation|core dumped|exception|sanitizer|runtime error' \
    "$work/out.txt"; then
    fail "$what: the output looks like a crash: $(head -n 3 "$work/out.txt")"
  fi
}
