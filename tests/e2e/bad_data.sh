#!/usr/bin/env bash
# bad_data.sh: malformed data through `mtlc train` gives a clear error that
# names the file (and, for CSV rows, the line) and exit status 1, never a crash.
#
# Usage: bad_data.sh MTLC LOG_CHECK
# The fixtures in data/ are a small valid CSV model (tabular.mtl, good.csv)
# and malformed copies of its data passed with --data train=PATH; IDX files are
# written into the scratch folder (a tiny valid pair, then truncated copies,
# and a truncated copy of Fashion-MNIST's test images when it is installed).
source "$(dirname "$0")/common.sh"

# expect_error WHAT PATTERN MTLC_ARGS...: runs mtlc and asserts exit status 1,
# an `error:` line matching the extended regex PATTERN, and no sign of a crash.
expect_error() {
  local what=$1 pattern=$2
  shift 2
  timeout 60 "$mtlc" "$@" >"$work/out.txt" 2>&1
  local status=$?
  echo "--- $what (exit status $status):"
  head -n 8 "$work/out.txt"
  if [[ $status -ne 1 ]]; then
    fail "$what: exit status $status, expected 1"
  fi
  if ! grep -Eq "$pattern" "$work/out.txt"; then
    fail "$what: no message matching /$pattern/"
  fi
  if grep -Eqi 'internal|terminate called|assert|segmentation|core dumped|exception' \
    "$work/out.txt"; then
    fail "$what: the output looks like a crash"
  fi
}

tab=$fixtures/tabular.mtl
# The fixture model trains on its own data, so every failure below is the data's.
"$mtlc" train "$tab" -q >"$work/out.txt" 2>&1 || {
  fail "the fixture tabular.mtl does not train on good.csv:"
  cat "$work/out.txt" >&2
}

expect_error "ragged CSV row" 'error: .*ragged\.csv:5: row has 3 fields, expected 4' \
  train "$tab" --data "train=$fixtures/ragged.csv"
expect_error "non-numeric cell" 'error: .*non_numeric\.csv:6:.*abc' \
  train "$tab" --data "train=$fixtures/non_numeric.csv"
# The data loads while the model compiles (here from scratch, with -v's
# stage lines): the data's error cancels the compile, which adds nothing.
expect_error "non-numeric cell while compiling" 'error: .*non_numeric\.csv:6:.*abc' \
  -v train "$tab" --no-cache --data "train=$fixtures/non_numeric.csv"
if grep -q cancel "$work/out.txt" || [[ $(grep -c 'error:' "$work/out.txt") -ne 1 ]]; then
  fail "a data error while compiling: expected its one error and no more"
fi
expect_error "missing column (data file replaced)" "error: .*missing_column\.csv.*'c'" \
  train "$tab" --data "train=$fixtures/missing_column.csv"
expect_error "missing column (named in the model)" \
  "missing_column\.mtl:6:27: error: no column named 'd' in '.*good\.csv'" \
  train "$fixtures/missing_column.mtl"
expect_error "missing column (mtlc check)" \
  "missing_column\.mtl:6:27: error: no column named 'd' in '.*good\.csv'" \
  check "$fixtures/missing_column.mtl"
expect_error "empty CSV file" 'error: .*empty\.csv: file is empty' \
  train "$tab" --data "train=$fixtures/empty.csv"
expect_error "CSV header without rows" 'error: .*header_only\.csv' \
  train "$tab" --data "train=$fixtures/header_only.csv"
expect_error "nonexistent CSV file" "error: .*$work/nope\.csv" \
  train "$tab" --data "train=$work/nope.csv"
# A device never ends (it read until memory ran out); a stream too large for
# memory is an error, not an abort.
expect_error "a device as data" "error: /dev/zero: is a device, not a file of data" \
  train "$tab" --data "train=/dev/zero"
# A model file that cannot be read is an error (check passed it as empty).
expect_error "a model file with a read error" "error: cannot read '/proc/self/mem': Input/output error" \
  check /proc/self/mem
# A batch that needs more memory than the machine has is refused before any
# is touched (the system killed the process).
expect_error "a batch larger than memory" "error: batches of 2147483648 rows need [0-9.]+ GB of memory \([0-9]+ floats a row\), more than this machine's [0-9.]+ GB; use a smaller batch" \
  train "$tab" --no-save --batch 2147483648
out=$(
  ulimit -v 3000000
  timeout 120 "$mtlc" train "$tab" --no-save --data train=<(head -c 4000000000 /dev/zero) 2>&1
)
[[ $? -eq 1 && $out == *"error: /dev/fd/"*": not enough memory to read the file"* ]] ||
  fail "a stream larger than memory allows: $out"
# A file the model names that does not exist is reported at its data set.
sed 's/"good.csv"/"gone.csv"/' "$tab" >"$work/gone.mtl"
expect_error "nonexistent CSV file (named in the model)" \
  "gone\.mtl:6:3: error: data set 'train' reads '$work/gone\.csv', which does not exist; make it, \
or give another file with --data train=PATH" train "$work/gone.mtl"

# A tiny IDX pair: 4 images of 2x2 (unsigned bytes) and their 4 labels.
printf '\x00\x00\x08\x03\x00\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00\x02' >"$work/images.idx"
printf '\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0\xf0' >>"$work/images.idx"
printf '\x00\x00\x08\x01\x00\x00\x00\x04\x00\x01\x00\x01' >"$work/labels.idx"
idx=$fixtures/idx.mtl
if "$mtlc" train "$idx" -q --data "train.images=$work/images.idx" \
  --data "train.labels=$work/labels.idx" >"$work/out.txt" 2>&1; then
  head -c 24 "$work/images.idx" >"$work/trunc-data.idx"
  head -c 10 "$work/images.idx" >"$work/trunc-header.idx"
  expect_error "IDX data cut short" 'error: .*trunc-data\.idx: truncated' \
    train "$idx" --data "train.images=$work/trunc-data.idx" --data "train.labels=$work/labels.idx"
  expect_error "IDX header cut short" 'error: .*trunc-header\.idx: truncated' \
    train "$idx" --data "train.images=$work/trunc-header.idx" --data "train.labels=$work/labels.idx"
  expect_error "CSV passed as IDX" 'error: .*good\.csv: not an IDX file' \
    train "$idx" --data "train.images=$fixtures/good.csv" --data "train.labels=$work/labels.idx"
  expect_error "nonexistent IDX file" "error: .*$work/nope\.idx" \
    train "$idx" --data "train.images=$work/nope.idx" --data "train.labels=$work/labels.idx"
else
  fail "the fixture idx.mtl does not train on a valid tiny IDX pair:"
  cat "$work/out.txt" >&2
fi

if have_fashion; then
  gunzip -c "$fashion/t10k-images-idx3-ubyte.gz" | head -c 100000 >"$work/fashion-cut"
  expect_error "truncated Fashion-MNIST images" 'error: .*fashion-cut: truncated' \
    train "$examples/fashion_mnist.mtl" --data "train.images=$work/fashion-cut"
  # The same while a large model compiles from scratch (hundreds of
  # milliseconds, where the error takes one): the compile is cancelled before
  # its `jit` stage.
  expect_error "truncated images while a CNN compiles" 'error: .*fashion-cut: truncated' \
    -v train "$examples/fashion_cnn_bn.mtl" --no-cache --no-save --data "train.images=$work/fashion-cut"
  if grep -Eq 'cancel|^mtlc: jit' "$work/out.txt" || [[ $(grep -c 'error:' "$work/out.txt") -ne 1 ]]; then
    fail "a data error while compiling: the compile went on, or reported more than the error"
  fi
  # An experiment loads its models' data while they compile: the same.
  expect_error "truncated images while an experiment's CNN compiles" 'error: .*fashion-cut: truncated' \
    -v experiment "$examples/fashion_cnn_bn.mtl" --no-cache --seeds 1 --dir "$work/cut-experiment" \
    --data "train.images=$work/fashion-cut"
  if grep -Eq 'cancel|^mtlc: jit' "$work/out.txt" || [[ $(grep -c 'error:' "$work/out.txt") -ne 1 ]]; then
    fail "a data error while an experiment compiles: the compile went on, or reported more"
  fi
else
  echo "note: $fashion is absent; the Fashion-MNIST truncation case is left out"
fi
# Ids must fit the smallest embedding table their input reaches, in any
# order and through flatten: the product reads zeros for an id outside it.
printf 'i,y\n0,1\n1,0\n5,1\n' >"$work/ids.csv"
for heads in "embedding(2, 2) -> flatten -> dense(1)|embedding(100, 1) -> flatten -> dense(1)" \
  "embedding(100, 1) -> flatten -> dense(1)|embedding(2, 2) -> flatten -> dense(1)" \
  "flatten -> embedding(2, 2) -> flatten -> dense(1)|embedding(100, 1) -> flatten -> dense(1)"; do
  cat >"$work/ids.mtl" <<EOF
model m {
  input ids : i32[1]
  data train = csv("ids.csv") { ids = column(i)  a = column(y)  b = column(y) }
  task a : regress { head = ids -> ${heads%|*} }
  task b : regress { head = ids -> ${heads#*|} }
}
EOF
  expect_error "an id outside the smallest table ($heads)" \
    "ids.csv:4: column 'i': 5 is out of range: input 'ids' takes ids 0\.\.1" \
    train "$work/ids.mtl" --epochs 1 --no-save
done

# A validation row far outside the training data's makes validation losses
# that are not finite: the run says that no epoch's was, never that the last
# epoch was the best by them.
out=$("$mtlc" train "$fixtures/far.mtl" --no-save 2>&1)
[[ $out == *"validation, epoch 2 (last; kept, no epoch's validation loss was finite)"* &&
  $out != *"best by loss"* ]] || fail "validation losses that are not finite: $out"

# A validate fraction that holds out no row: the run trains without
# validation, and says so.
cat >"$work/one_row.mtl" <<'EOF2'
model one_row {
  input x : f32[2]
  data train = synthetic(rows = 1, seed = 1) {}
  shared t = x -> dense(4) -> relu
  task y : regress { head = t -> dense(1) }
  train { epochs = 1, batch = 1, validate = 0.5 }
}
EOF2
out=$("$mtlc" train "$work/one_row.mtl" --no-save 2>&1)
[[ $? -eq 0 && $out == *"warning: validate = 0.5 of the 1 training row holds out none; use more \
rows, a larger fraction or a validation data set; the run trains without validation"* ]] ||
  fail "a validate fraction that holds out no row: $out"

finish
