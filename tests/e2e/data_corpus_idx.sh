#!/usr/bin/env bash
# data_corpus_idx.sh: malformed IDX files, through `mtlc train`, `eval` and `predict`,
# give an error naming the file and exit status 1.
#
# Usage: data_corpus_idx.sh MTLC LOG_CHECK
# data/idx.mtl classifies 2x2 images into 2 classes. This script writes a
# valid pair of 4 images and 4 labels, builds the program and trains it once,
# then writes each damaged file and feeds it as the images (or the labels)
# through `mtlc train --data train.images=/train.labels=`, through the
# program's `eval --data ...` and, for images, `predict --input FILE`.
source "$(dirname "$0")/common.sh"
source "$here/corpus_helpers.sh"

model=$fixtures/idx.mtl

# idx_header TYPE DIMS...: an IDX header as printf escapes: 00 00 TYPE RANK, then each
# dimension as a big-endian 32-bit number.
idx_header() {
  local type=$1 dim
  shift
  printf '\\x00\\x00\\x%02x\\x%02x' "$type" $#
  for dim in "$@"; do
    printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((dim >> 24 & 255)) $((dim >> 16 & 255)) \
      $((dim >> 8 & 255)) $((dim & 255))
  done
}

# write FILE TYPE DIMS... -- BYTES: an IDX file of the header and the data bytes
# (printf escapes).
write() {
  local file=$work/$1 type=$2 dims=()
  shift 2
  while [[ $1 != -- ]]; do
    dims+=("$1")
    shift
  done
  printf "$(idx_header "$type" "${dims[@]}")$2" >"$file"
}

pixels='\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0\xf0'
write images.idx 8 4 2 2 -- "$pixels"
write labels.idx 8 4 -- '\x00\x01\x00\x01'
"$mtlc" build -O 0 "$model" -o "$work/idx" >"$work/build.txt" 2>&1 ||
  { fail "mtlc build idx.mtl failed: $(cat "$work/build.txt")"; finish; }
"$work/idx" train -q --run-dir "$work/ck" --data "train.images=$work/images.idx" \
  --data "train.labels=$work/labels.idx" >"$work/train.txt" 2>&1 ||
  { fail "idx.mtl does not train on a valid pair: $(cat "$work/train.txt")"; finish; }
ck=$work/ck/last.safetensors

# reject FILE PART PATHS PATTERN: FILE (in $work) as the images or the labels
# (PART) fails through each of PATHS: t (mtlc train), e (eval), p (predict,
# images only), with an error matching `error: .*FILE` then PATTERN.
reject() {
  local name=$1 part=$2 paths=$3 pattern=$4
  local images=$work/images.idx labels=$work/labels.idx
  [[ $part == images ]] && images=$work/$name || labels=$work/$name
  local at="error: .*${name//./\\.}$pattern"
  local data=(--data "train.images=$images" --data "train.labels=$labels")
  [[ $paths == *t* ]] && expect_fail "$name (train)" "$at" "$mtlc" train -O 0 -q "$model" "${data[@]}"
  [[ $paths == *e* ]] && expect_fail "$name (eval)" "$at" "$work/idx" eval --checkpoint "$ck" "${data[@]}"
  [[ $paths == *p* ]] && expect_fail "$name (predict)" "$at" "$work/idx" predict --checkpoint "$ck" \
    --input "$work/$name"
  return 0
}

printf 'PK\x03\x04' >"$work/zip.idx"
cat "$work/images.idx" >>"$work/zip.idx"
reject zip.idx images tep ": not an IDX file"
write float.idx 13 4 2 2 -- "$pixels$pixels$pixels$pixels"
reject float.idx images tep ": IDX element type 0x0D"
write rank0.idx 8 -- ''
reject rank0.idx images tep ": IDX rank is 0"
write long.idx 8 4 2 2 -- "$pixels\x00"
reject long.idx images tep ": more data than the IDX header's dimensions \[4, 2, 2\]"
write short.idx 8 4 2 2 -- '\x00\x10\x20'
reject short.idx images tep ": truncated: expected 16 data bytes, found 3"
head -c 10 "$work/images.idx" >"$work/cut_header.idx"
reject cut_header.idx images tep ": truncated: the IDX header of rank 3 needs 16 bytes, found 10"
: >"$work/empty.idx"
reject empty.idx images tep ": file is empty"
write no_items.idx 8 0 2 2 -- ''
reject no_items.idx images tep ": the IDX file holds no items"
write zero_width.idx 8 4 0 2 -- ''
reject zero_width.idx images tep ": IDX dimension 2 is 0"
write flat.idx 8 4 -- '\x00\x10\x20\x30'
reject flat.idx images tep ": .*1 value per row.*needs 4"
write huge.idx 8 4294967295 4294967295 4294967295 -- ''
reject huge.idx images tep ": IDX dimensions .* are too large"
write five_labels.idx 8 5 -- '\x00\x01\x00\x01\x00'
reject five_labels.idx labels te " has 5"
write label_seven.idx 8 4 -- '\x00\x01\x07\x01'
reject label_seven.idx labels te ": item 2: 7 is out of range"
gzip -c "$work/images.idx" | head -c 20 >"$work/cut.idx.gz"
reject cut.idx.gz images tep ": truncated gzip file"
cp "$work/images.idx" "$work/plain.idx.gz"
reject plain.idx.gz images tep ": not a gzip file"
echo "$cases cases"
finish
