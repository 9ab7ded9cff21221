#!/usr/bin/env bash
# categories.sh: inputs read 'as category' (examples/ctr.mtl on data from
# examples/data/make_ctr.sh). The training data fixes each column's
# vocabulary, which the checkpoint keeps: predict and eval read another file
# by it, values training never saw (and missing cells) read as <unk> with a
# note, and the C library numbers values as the program does.
source "$(dirname "$0")/common.sh"
cc=${CC:-cc}

sh "$examples/data/make_ctr.sh" 3000 11 >"$work/ctr.csv" || { fail "make_ctr.sh failed"; finish; }
[[ $(wc -l <"$work/ctr.csv") == 3001 ]] || fail "make_ctr.sh wrote $(wc -l <"$work/ctr.csv") lines"
"$mtlc" build "$examples/ctr.mtl" -o "$work/ctr" >/dev/null 2>&1 || { fail "build failed"; finish; }
"$work/ctr" train -q --epochs 2 --run-dir "$work/run" --data "train=$work/ctr.csv" ||
  { fail "training failed"; finish; }
ck=$work/run/last.safetensors

# Rows 2 and 3 differ only in a user segment that training never saw, row 4
# in a missing device: all three read <unk> there, so rows 2 and 3 predict
# the same. Row 5 is a known row.
{
  head -n 1 "$work/ctr.csv"
  echo "u_new,cat1,mobile,r2,12.50,9,1,1,0"
  echo "u_other,cat1,mobile,r2,12.50,9,1,1,0"
  echo "u1,cat1,,r2,12.50,9,1,0,"
  echo "u1,cat1,mobile,r2,12.50,9,1,0,"
} >"$work/new.csv"
"$work/ctr" predict --checkpoint "$ck" --input "$work/new.csv" >"$work/pred.csv" 2>"$work/notes.txt" ||
  fail "predict failed: $(cat "$work/notes.txt")"
cat "$work/pred.csv" "$work/notes.txt"
[[ $(sed -n 2p "$work/pred.csv" | cut -d, -f2-) == $(sed -n 3p "$work/pred.csv" | cut -d, -f2-) ]] ||
  fail "two unseen user segments predict differently"
[[ $(sed -n 4p "$work/pred.csv" | cut -d, -f2-) != $(sed -n 5p "$work/pred.csv" | cut -d, -f2-) ]] ||
  fail "a missing device predicts as the known device 'mobile'"
grep -c "new\.csv: 2 values that training did not see read as <unk> (the first: .*new\.csv:2: column 'user_segment': 'u_new')" \
  "$work/notes.txt" >/dev/null || fail "no note on the unseen values"
grep -c "new\.csv: 1 missing value of input 'fields' read as <unk>" "$work/notes.txt" >/dev/null ||
  fail "no note on the missing value"
# A model that reads the same columns in another order cannot start from the checkpoint: each
# column has its vocabulary and its range of embedding rows (they were matched by position).
mkdir -p "$work/swap/lib"
cp "$examples/lib/blocks.mtl" "$work/swap/lib/"
sed 's/columns(user_segment, item_category, device, region)/columns(item_category, user_segment, device, region)/' \
  "$examples/ctr.mtl" >"$work/swap/ctr.mtl"
for how in --init-from --resume; do
  "$mtlc" train "$work/swap/ctr.mtl" -q --no-save --epochs 3 --data "train=$work/ctr.csv" $how "$ck" \
    >"$work/swap.txt" 2>&1 && fail "$how from a checkpoint of columns in another order was accepted"
  grep -c "input 'fields' reads the columns item_category, user_segment, device, region 'as category', and the checkpoint's vocabulary and embedding rows are of the columns user_segment, item_category, device, region" \
    "$work/swap.txt" >/dev/null || fail "no message for $how with the columns in another order: $(cat "$work/swap.txt")"
done
# eval and predict too (they read every column with another column's vocabulary).
"$mtlc" build "$work/swap/ctr.mtl" -o "$work/swap/prog" >/dev/null 2>&1 || fail "build of the swapped model failed"
"$work/swap/prog" eval --checkpoint "$ck" --data "train=$work/ctr.csv" >"$work/swap_eval.txt" 2>&1 &&
  fail "eval of a checkpoint of columns in another order was accepted"
"$work/swap/prog" predict --checkpoint "$ck" --input "$work/new.csv" >/dev/null 2>"$work/swap_predict.txt" &&
  fail "predict with a checkpoint of columns in another order was accepted"
for out in swap_eval swap_predict; do
  grep -c "and the checkpoint's vocabulary and embedding rows are of the columns user_segment, item_category, device, region" \
    "$work/$out.txt" >/dev/null || fail "$out: no message for columns in another order: $(cat "$work/$out.txt")"
done
"$work/ctr" eval --checkpoint "$ck" --data "train=$work/new.csv" >"$work/eval.txt" 2>&1 ||
  fail "eval --data failed: $(cat "$work/eval.txt")"
grep -c "^train (4 rows)" "$work/eval.txt" >/dev/null || fail "eval did not score the 4 rows"

# A vocabulary larger than the embedding is an error that names the size to use.
sed 's/embedding(100, 8)/embedding(20, 8)/' "$examples/ctr.mtl" >"$work/small.mtl"
cp -r "$examples/lib" "$work/lib"
"$mtlc" train "$work/small.mtl" --no-save --data "train=$work/ctr.csv" >"$work/small.txt" 2>&1
status=$?
cat "$work/small.txt"
[[ $status == 1 ]] || fail "a vocabulary too large for its embedding: exit status $status"
grep -Ec "input 'fields' reads [0-9]+ categories from columns 'user_segment', 'item_category', 'device', 'region' .*but the embedding it feeds has 20 rows; make it embedding\([0-9]+, \.\.\.\)" \
  "$work/small.txt" >/dev/null || fail "no message for a vocabulary too large"
# Initialised from a checkpoint whose vocabulary (97 categories) is too large
# for the model's embedding (70 rows), the run reads its data's own (65
# categories in 40 rows): the checkpoint's would give ids past the embedding.
sed 's/embedding(100, 8)/embedding(70, 8)/' "$examples/ctr.mtl" >"$work/seventy.mtl"
head -n 41 "$work/ctr.csv" >"$work/forty.csv"
"$mtlc" train "$work/seventy.mtl" --no-save --epochs 1 --data "train=$work/forty.csv" \
  --init-from "$ck" >"$work/seventy.txt" 2>&1 ||
  fail "init from a checkpoint of a larger vocabulary failed: $(cat "$work/seventy.txt")"
grep -c "not used: the vocabulary of input 'fields' (97 categories; its embedding has 70 rows), which the data's replaces" \
  "$work/seventy.txt" >/dev/null || fail "no word of the vocabulary left out: $(cat "$work/seventy.txt")"

# The C library: ids by the checkpoint's vocabulary, one range per column.
if ! command -v "$cc" >/dev/null; then
  echo "no C compiler: the library part is not run"
  finish
fi
"$mtlc" build --lib "$examples/ctr.mtl" -o "$work/lib_ctr" >/dev/null 2>&1 || { fail "build --lib failed"; finish; }
"$cc" -std=c99 -Wall -Wextra -Werror "$fixtures/category_ids.c" -I "$work/lib_ctr" \
  "$work/lib_ctr/libctr.a" -lstdc++ -lz -lm -lpthread -o "$work/category_ids" ||
  { fail "category_ids.c does not build"; finish; }
"$work/category_ids" "$ck" 0 u0 0 never_seen 1 never_seen 1 cat0 4 u0 >"$work/ids.txt" ||
  fail "category_ids failed"
cat "$work/ids.txt"
id() { sed -n "$1p" "$work/ids.txt" | cut -d' ' -f3; }
# Column 0's vocabulary is <unk>, u0, u1, ...: u0 is 1 and an unseen value 0.
[[ $(id 1) == 1 && $(id 2) == 0 ]] || fail "column 0: u0 -> $(id 1), unseen -> $(id 2); expected 1 and 0"
# Column 1's ids follow column 0's: its <unk> is the size of column 0's vocabulary, cat0 the next.
users=$(cut -d, -f1 "$work/ctr.csv" | tail -n +2 | sort -u | wc -l)
[[ $(id 3) == $((users + 1)) && $(id 4) == $((users + 2)) ]] ||
  fail "column 1: unseen -> $(id 3), cat0 -> $(id 4); expected $((users + 1)) and $((users + 2)) ($users users)"
grep -Fxq "4 u0 -1 mtl_session_category_id: element 4 is out of range; it must be in [0, 3], the elements of input 'fields'" "$work/ids.txt" ||
  fail "no error for an element out of range"
# An id of column 0's range in column 1 would read another column's
# embedding row: predict refuses it, naming the column's own range.
grep -Fq "predict: mtl_session_predict: input 'fields', row 0, column 1 (from 0): 1 is not an id of that column's categories, in [$((users + 1)), " "$work/ids.txt" ||
  fail "an id of another column's range was not refused: $(tail -1 "$work/ids.txt")"
finish
