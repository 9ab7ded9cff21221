#!/usr/bin/env bash
# data_corpus.sh: every malformed data file of the corpus, fed through every way data
# enters mtlc, gives a located error and exit status 1; the well-formed oddities are
# accepted with the right values.
#
# Usage: data_corpus.sh MTLC LOG_CHECK
# corpus/corpus.mtl is a small model with every kind of task (`as class`
# labels, numeric class ids, a regression and a binary target) over
# corpus/train.csv and corpus/val.csv. Each malformed file in corpus/ (and
# each binary one this script writes: gzip, NUL bytes, UTF-16) goes through
# `mtlc train` as the training or validation data, through the built
# program's `eval --data val=FILE` and `predict --input FILE`, as its flaw
# allows. A run must end with
# exit status 1 and an `error:` line naming the file (and the line, for CSV
# rows), within 60 s, without a sign of a crash. IDX files are in
# data_corpus_idx.sh, the C library's cases in data_corpus_lib.sh.
source "$(dirname "$0")/common.sh"
source "$here/corpus_helpers.sh"

corpus=$here/corpus
model=$corpus/corpus.mtl

# The program and a checkpoint trained on the good files (built once, at -O0:
# the data checks do not depend on the optimisation level).
"$mtlc" build -O 0 "$model" -o "$work/corpus" >"$work/build.txt" 2>&1 ||
  { fail "mtlc build corpus.mtl failed: $(cat "$work/build.txt")"; finish; }
"$mtlc" train -O 0 -q "$model" --log "$work/ref.jsonl" --log-every 1 >"$work/train.txt" 2>&1 ||
  { fail "corpus.mtl does not train on its own data: $(cat "$work/train.txt")"; finish; }
"$work/corpus" train -q --run-dir "$work/ck" >"$work/train.txt" 2>&1 ||
  { fail "the corpus program does not train: $(cat "$work/train.txt")"; finish; }
ck=$work/ck/last.safetensors
"$work/corpus" predict --checkpoint "$ck" --input "$corpus/train.csv" --output "$work/ref.csv" ||
  { fail "the corpus program does not predict on train.csv"; finish; }

# reject FILE PATHS PATTERN: FILE (in corpus/, or else written into $work)
# fails through each of PATHS: t (mtlc train, as the training data), v (mtlc
# train, as the validation data), e (eval, as the validation data), p
# (predict's input). The error must match `error: .*FILE` then PATTERN.
reject() {
  local name=$1 paths=$2 pattern=$3 file=$corpus/$1
  [[ -f $file ]] || file=$work/$1
  local at="error: .*${name//./\\.}$pattern"
  [[ $paths == *t* ]] &&
    expect_fail "$name (train)" "$at" "$mtlc" train -O 0 -q "$model" --data "train=$file"
  [[ $paths == *v* ]] &&
    expect_fail "$name (validation)" "$at" "$mtlc" train -O 0 -q "$model" --data "val=$file"
  [[ $paths == *e* ]] &&
    expect_fail "$name (eval)" "$at" "$work/corpus" eval --checkpoint "$ck" --data "val=$file"
  [[ $paths == *p* ]] &&
    expect_fail "$name (predict)" "$at" "$work/corpus" predict --checkpoint "$ck" --input "$file"
  return 0
}

# accept FILE: FILE holds train.csv's values in another dress. As the training
# data it gives the very steps train.csv gives; predict gives train.csv's
# predictions (the `row` column aside: lines may move), left in $work/accept.csv.
accept() {
  local name=$1 file=$corpus/$1
  [[ -f $file ]] || file=$work/$1
  ((cases++))
  if ! timeout 60 "$mtlc" train -O 0 -q "$model" --data "train=$file" --log "$work/accept.jsonl" \
    --log-every 1 >"$work/out.txt" 2>&1; then
    fail "$name (train): refused: $(head -n 3 "$work/out.txt")"
  elif ! "$log_check" same-steps "$work/ref.jsonl" "$work/accept.jsonl" >"$work/out.txt" 2>&1; then
    fail "$name (train): not the steps of train.csv: $(head -n 3 "$work/out.txt")"
  fi
  if ! timeout 60 "$work/corpus" predict --checkpoint "$ck" --input "$file" \
    --output "$work/accept.csv" 2>"$work/out.txt"; then
    fail "$name (predict): refused: $(head -n 3 "$work/out.txt")"
  elif ! diff <(cut -d, -f2- "$work/ref.csv") <(cut -d, -f2- "$work/accept.csv") >/dev/null; then
    fail "$name (predict): the predictions differ from train.csv's"
  fi
  echo "--- $name: accepted, same steps and predictions as train.csv"
}

# Cells that are not finite numbers, in an input or a label: always refused.
reject feature_inf.csv tvep ":4: .*'a'.*inf"
reject feature_neg_inf.csv tvep ":4: .*'b'.*-inf"
reject feature_nan.csv tvep ":4: .*'c'.*nan"
reject feature_NaN.csv tvep ":4: .*'a'.*NaN"
reject feature_infinity.csv tvep ":4: .*'b'.*Infinity"
reject feature_huge.csv tvep ":4: .*'a'.*1e39"
reject size_inf.csv tve ":4: .*'size'.*inf"
reject size_neg_inf.csv tve ":4: .*'size'.*-inf"
reject size_nan.csv tve ":4: .*'size'.*nan"
reject size_huge.csv tve ":4: .*'size'.*1e39"
reject level_nan.csv tve ":4: .*'level'.*NaN"
reject level_inf.csv tve ":4: .*'level'.*inf"
reject flag_nan.csv tve ":4: .*'flag'.*nan"
# Text where a number belongs (mixed types in one column).
reject feature_text.csv tvep ":4: .*'b'.*'abc' is not a number"
reject feature_trailing.csv tvep ":4: .*'b'.*'0\.03x' is not a number"
reject feature_hex.csv tvep ":4: .*'a'.*'0x1A' is not a number"
reject feature_comma_decimal.csv tvep ":4: .*'b'.*'0,03' is not a number"
reject size_text.csv tve ":4: .*'size'.*'big' is not a number"
reject level_text.csv tve ":4: .*'level'.*'one' is not a number"
# Labels a task cannot take.
reject level_out_of_range.csv tve ":4: .*'level'.*3"
reject level_negative.csv tve ":4: .*'level'.*-1"
reject level_not_integer.csv tve ":4: .*'level'.*1\.5"
reject flag_out_of_range.csv tve ":4: .*'flag'.*2"
reject kind_four_classes.csv t ".*'kind'.*violet"
reject level_unlabelled.csv t ".*'level'.*(no|0) label"
# Class names that training never saw, in held-out data.
reject kind_unseen.csv ve ":4: .*'kind'.*'purple'"
reject kind_unseen_few.csv ve ":4: .*'kind'.*'purple'"
reject kind_id_for_name.csv ve ":4: .*'kind'.*'2'"
# The shape of the table.
reject ragged_short.csv tvep ":4: row has 6 fields, expected 7"
reject ragged_long.csv tvep ":4: row has 8 fields, expected 7"
reject unterminated_quote.csv tvep ":4: unterminated quoted field"
reject after_quote.csv tvep ":4: unexpected '5' after a closing quote"
reject empty.csv tvep ": file is empty"
reject blank_lines.csv tvep ": file is empty"
reject header_only.csv tvep ": no data rows"
reject duplicate_header.csv tvep ":1: .*duplicate.*'b'"
reject duplicate_unused_header.csv tvep ":1: .*duplicate.*'note'"
reject semicolon.csv tvep ": no column named 'a'"
reject missing_label_column.csv tv ": no column named 'flag'"
reject features_all_missing.csv tvep ": every row has a missing input value"
printf 'a,b,c,kind,level,size,flag\n-0.705,-1.397,0.6\x0004,blue,0,-1.514,1\n' >"$work/nul_byte.csv"
reject nul_byte.csv tvep ":2: .*NUL"
printf 'a,b,c,kind,level,size,flag\n-0.705,-1.397,0.604,blue,0,-1.514,1\n' |
  iconv -f UTF-8 -t UTF-16 >"$work/utf16.csv"
reject utf16.csv tvep ":1: .*UTF-16"

# Compressed files that are damaged, or not compressed at all.
gzip -c "$corpus/train.csv" >"$work/good.csv.gz"
size=$(stat -c %s "$work/good.csv.gz")
head -c $((size / 2)) "$work/good.csv.gz" >"$work/truncated.csv.gz"
reject truncated.csv.gz tvep ": truncated gzip file"
printf 'PK\x03\x04\x14\x00\x00\x00\x08\x00not gzip at all' >"$work/zip_named.csv.gz"
reject zip_named.csv.gz tvep ": not a gzip file"
cp "$corpus/train.csv" "$work/plain_named.csv.gz"
reject plain_named.csv.gz tvep ": not a gzip file"
{ head -c 40 "$work/good.csv.gz"; printf '\xff\xff\xff\xff'; tail -c +45 "$work/good.csv.gz"; } \
  >"$work/corrupt.csv.gz"
reject corrupt.csv.gz tvep ": corrupt gzip data"
{ head -c $((size - 8)) "$work/good.csv.gz"; printf '\0\0\0\0'; tail -c 4 "$work/good.csv.gz"; } \
  >"$work/bad_crc.csv.gz"
reject bad_crc.csv.gz tvep ": corrupt gzip data: incorrect data check"
gzip -c </dev/null >"$work/empty.csv.gz"
reject empty.csv.gz tvep ": file is empty"
# Bytes after the gzip data that begin no other member: a second member
# whose header is damaged, text appended to the file, or other bytes after a
# padding of zeros. Each is an error, where zlib's gzread dropped the rest
# of the file without a word.
half=$(($(wc -l <"$corpus/train.csv") / 2))
head -n "$half" "$corpus/train.csv" | gzip -c >"$work/first_half.gz"
tail -n +$((half + 1)) "$corpus/train.csv" | gzip -c >"$work/second_half.gz"
{ cat "$work/first_half.gz"; printf '\x1f\x00'; tail -c +3 "$work/second_half.gz"; } \
  >"$work/damaged_member.csv.gz"
after_end=": the bytes from byte [0-9]+, after the end of the gzip data, are neither another gzip member nor zeros: the file is damaged, or other data was appended to it"
reject damaged_member.csv.gz tvep "$after_end"
{ cat "$work/good.csv.gz"; echo "appended text"; } >"$work/appended.csv.gz"
reject appended.csv.gz tvep "$after_end"
{ cat "$work/good.csv.gz"; head -c 100 /dev/zero; printf 'x'; } >"$work/after_zeros.csv.gz"
reject after_zeros.csv.gz tvep ": byte [0-9]+ is not zero, after the padding of zeros that follows the gzip data's end at byte [0-9]+"

# Oddities of form that must be read, and read right.
accept bom.csv
accept crlf.csv
accept padded.csv
accept good.csv.gz
# Two members (cat a.gz b.gz) read one after the other; zeros after the last
# (a padding some tools add) ignored.
cat "$work/first_half.gz" "$work/second_half.gz" >"$work/two_members.csv.gz"
accept two_members.csv.gz
{ cat "$work/good.csv.gz"; head -c 512 /dev/zero; } >"$work/zero_padded.csv.gz"
accept zero_padded.csv.gz
accept quoted.csv
# Each quoted row spans two lines, so row k starts on line 2k.
awk -F, 'NR > 1 && $1 != 2 * (NR - 1) { bad = 1 } END { exit bad || NR != 31 }' \
  "$work/accept.csv" || fail "quoted.csv (predict): rows not named by their first line"
accept blank_lines_no_final_newline.csv
# A missing input value drops its row, with a note naming the line.
((cases++))
"$mtlc" train -O 0 -q "$model" --data train=$corpus/feature_missing.csv --log "$work/missing.jsonl" \
  >"$work/out.txt" 2>&1 || fail "feature_missing.csv (train): $(head -n 3 "$work/out.txt")"
grep -q 'feature_missing\.csv: dropped 1 row with missing input values (lines 4)' "$work/out.txt" ||
  fail "feature_missing.csv (train): no note of the dropped row: $(head -n 3 "$work/out.txt")"
[[ $("$log_check" value "$work/missing.jsonl" start.train_rows) == "start.train_rows = 29" ]] ||
  fail "feature_missing.csv (train): not 29 training rows"
# Predict reads files without label columns, and eval scores the other tasks.
((cases++))
"$work/corpus" predict --checkpoint "$ck" --input "$corpus/missing_label_column.csv" \
  >"$work/out.csv" 2>&1 && [[ $(wc -l <"$work/out.csv") == 4 ]] ||
  fail "missing_label_column.csv (predict): $(head -n 3 "$work/out.csv")"
((cases++))
"$work/corpus" eval --checkpoint "$ck" --data "val=$corpus/missing_label_column.csv" \
  >"$work/out.txt" 2>&1 && grep -Eq '^  flag .*\(0 labelled\)' "$work/out.txt" ||
  fail "missing_label_column.csv (eval): $(cat "$work/out.txt")"
# Held-out data with only some of the classes keeps the training ids: eval's
# accuracy is the share of rows predict labels `red`.
((cases++))
"$work/corpus" predict --checkpoint "$ck" --input "$corpus/kind_subset.csv" --output "$work/sub.csv"
want=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "kind.label") c = i; next }
  { n++; hit += $c == "red" } END { printf "%.4f", hit / n }' "$work/sub.csv")
got=$("$work/corpus" eval --checkpoint "$ck" --data "val=$corpus/kind_subset.csv" |
  awk '$1 == "kind" { for (i = 1; i < NF; i++) if ($i == "accuracy") print $(i + 1) }')
[[ $got == "$want" ]] ||
  fail "kind_subset.csv (eval): accuracy of kind is $got; predict labels $want of the rows red"

echo "$cases cases"
finish
