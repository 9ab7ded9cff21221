# common.sh: shared set-up for the end-to-end test scripts (sourced, not run).
#
# Every script is called as `SCRIPT MTLC LOG_CHECK [ARGS...]` from ctest; this
# sets $mtlc, $log_check, $examples, $fixtures and a scratch folder $work that
# is removed on exit, and defines fail/expect helpers.
set -u -o pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 MTLC LOG_CHECK [ARGS...]" >&2
  exit 2
fi
mtlc=$1
log_check=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
examples=$(cd "$here/../../examples" && pwd)
fixtures=$here/data
fashion=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Runs write their run folder (runs/MODEL/N) under the current folder: keep them in the scratch.
cd "$work" || exit 1
export NO_COLOR=1 LC_ALL=C

failures=0

# fail MESSAGE: records a failed assertion and goes on.
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# model_file NAME: examples/NAME.mtl, or bench/models/M.mtl for NAME bench_M.
model_file() {
  case $1 in
  bench_*) echo "$examples/../bench/models/${1#bench_}.mtl" ;;
  *) echo "$examples/$1.mtl" ;;
  esac
}

# train_model NAME TAG ARGS...: trains NAME's model quietly with ARGS, its
# output in $work/NAME-TAG.out, shown on failure.
train_model() {
  local name=$1 tag=$2
  shift 2
  if ! "$mtlc" train "$(model_file "$name")" -q "$@" >"$work/$name-$tag.out" 2>&1; then
    fail "$name ($tag) did not train:"
    cat "$work/$name-$tag.out" >&2
    return 1
  fi
}

# finish: the script's exit status (0 only if no assertion failed).
finish() {
  if [[ $failures -gt 0 ]]; then
    echo "$failures assertion(s) failed" >&2
    exit 1
  fi
  echo "all assertions held"
  exit 0
}

# have_fashion: whether Debian's dataset-fashion-mnist files are installed.
have_fashion() {
  [[ -f $fashion/train-images-idx3-ubyte.gz && -f $fashion/train-labels-idx1-ubyte.gz &&
    -f $fashion/t10k-images-idx3-ubyte.gz && -f $fashion/t10k-labels-idx1-ubyte.gz ]]
}

# skip MESSAGE: ends the test as skipped (ctest maps status 77 to "Skipped").
skip() {
  echo "SKIPPED: $*"
  exit 77
}

# train_and_predict MODEL INPUT [TRAIN ARGS...]: trains MODEL with mtlc into
# the run folder $work/run, builds it as $work/program, predicts INPUT with
# the last checkpoint into $work/pred.csv and reads that checkpoint with
# read_checkpoint.py (and $python) into $work/ck.json. On a failed step it
# records the failure and returns 1.
train_and_predict() {
  local model=$1 input=$2
  shift 2
  "$mtlc" train "$model" "$@" -q --run-dir "$work/run" >/dev/null 2>"$work/train.err" ||
    { fail "mtlc train failed: $(cat "$work/train.err")"; return 1; }
  "$mtlc" build "$model" -o "$work/program" 2>"$work/build.err" ||
    { fail "mtlc build failed: $(cat "$work/build.err")"; return 1; }
  "$work/program" predict --checkpoint "$work/run/last.safetensors" --input "$input" \
    >"$work/pred.csv" 2>"$work/pred.err" || { fail "predict failed: $(cat "$work/pred.err")"; return 1; }
  "$python" "$here/../runtime/read_checkpoint.py" "$work/run/last.safetensors" >"$work/ck.json" ||
    { fail "read_checkpoint.py cannot read the checkpoint"; return 1; }
}

# torch_python: sets $python to the first python3 that imports torch (the one
# on PATH, else Debian's), or skips the test.
torch_python() {
  python=
  local candidate
  for candidate in "$(command -v python3)" /usr/bin/python3; do
    if [[ -x $candidate ]] && "$candidate" -c 'import torch' 2>/dev/null; then
      python=$candidate
      return 0
    fi
  done
  skip "no python3 with torch"
}
