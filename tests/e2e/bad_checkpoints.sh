#!/usr/bin/env bash
# bad_checkpoints.sh: a built program given a truncated, corrupted, foreign or
# missing checkpoint exits with status 1 and a message naming the file and
# what is wrong, from eval, predict and train --resume alike; it never crashes.
#
# Usage: bad_checkpoints.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"
wine=$work/wine
penguins=$work/penguins
"$mtlc" build "$examples/wine.mtl" -o "$wine" 2>/dev/null || { fail "build wine failed"; finish; }
"$mtlc" build "$examples/penguins.mtl" -o "$penguins" 2>/dev/null || { fail "build penguins failed"; finish; }
"$wine" train --epochs 1 -q --run-dir "$work/wine-ck" || fail "wine did not train"
"$penguins" train --epochs 1 -q --run-dir "$work/penguins-ck" || fail "penguins did not train"
good=$work/wine-ck/last.safetensors
size=$(stat -c %s "$good")

head -c $((size / 2)) "$good" >"$work/truncated.safetensors"
head -c 5 "$good" >"$work/tiny.safetensors"
: >"$work/empty.safetensors"
cp "$good" "$work/header.safetensors"
printf '\x7b\x7b\x7b\x7b' | dd of="$work/header.safetensors" bs=1 seek=20 conv=notrunc 2>/dev/null
cp "$good" "$work/length.safetensors"
printf '\xff\xff\xff\xff\xff\xff\xff\x7f' | dd of="$work/length.safetensors" bs=1 conv=notrunc 2>/dev/null
head -c 4096 /dev/urandom >"$work/random.safetensors"

# expect WHAT PATTERN COMMAND...: exit status 1 and PATTERN in the output.
expect() {
  local what=$1 pattern=$2
  shift 2
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [[ $status -ne 1 ]]; then
    fail "$what: exit status $status (expected 1): $out"
  elif ! grep -qE "$pattern" <<<"$out"; then
    fail "$what: no message matching '$pattern' in: $out"
  fi
}

data=$examples/data/wine_data.csv
for bad in truncated tiny empty header length random; do
  file=$work/$bad.safetensors
  expect "eval, $bad" "error: .*$bad\.safetensors" "$wine" eval --checkpoint "$file"
  expect "predict, $bad" "error: .*$bad\.safetensors" "$wine" predict --checkpoint "$file" --input "$data"
  expect "resume, $bad" "error: .*$bad\.safetensors" "$wine" train -q --resume "$file"
done
expect "missing checkpoint" "error: .*nope\.safetensors" "$wine" eval --checkpoint "$work/nope.safetensors"
expect "a folder as checkpoint" "error: .*wine-ck" "$wine" eval --checkpoint "$work/wine-ck"
# A FIFO no one writes to: refused at once (it waited forever for a writer).
mkfifo "$work/fifo.safetensors"
expect "a FIFO as checkpoint" "fifo\.safetensors: cannot read checkpoint: not a regular file" \
  timeout 20 "$wine" eval --checkpoint "$work/fifo.safetensors"
# Another model's checkpoint: the differences are listed.
foreign=$work/penguins-ck/last.safetensors
expect "eval, foreign" "does not fit model 'wine'.*shape differs: trunk\.0\.weight: checkpoint \[64, 3\], model \[32, 12\]" \
  "$wine" eval --checkpoint "$foreign"
expect "predict, foreign" "does not fit model 'wine'" "$wine" predict --checkpoint "$foreign" --input "$data"
expect "resume, foreign" "does not fit model 'wine'" "$wine" train -q --resume "$foreign"
expect "init-from, foreign" "no parameter of model 'wine' is in it by name and shape" \
  "$wine" train -q --init-from "$foreign"
# A checkpoint of another model whose tensors fit by name and shape (the same
# model renamed) is used, with a note that says so (it was used silently).
mkdir -p "$work/renamed"
ln -s "$examples/lib" "$work/renamed/lib"
ln -s "$examples/data" "$work/renamed/data"
sed 's/^model wine /model wine_b /' "$examples/wine.mtl" >"$work/renamed/wine_b.mtl"
"$mtlc" build "$work/renamed/wine_b.mtl" -o "$work/wine_b" >/dev/null 2>&1 || fail "build wine_b failed"
note="note: $good was written by model 'wine', not 'wine_b': its tensors fit by name and shape"
"$work/wine_b" eval --checkpoint "$good" >/dev/null 2>"$work/other_eval.txt" ||
  fail "eval of a fitting checkpoint of another model failed: $(cat "$work/other_eval.txt")"
grep -qF "$note" "$work/other_eval.txt" || fail "eval: no note for another model's checkpoint: $(cat "$work/other_eval.txt")"
"$work/wine_b" predict --checkpoint "$good" --input "$data" >/dev/null 2>"$work/other_predict.txt" ||
  fail "predict with a fitting checkpoint of another model failed"
grep -qF "$note" "$work/other_predict.txt" || fail "predict: no note for another model's checkpoint"
"$wine" eval --checkpoint "$good" 2>&1 >/dev/null | grep -q "note:" && fail "eval of its own checkpoint printed a note"
# A model that declares its classes in another order than the checkpoint's
# head was trained with: refused (eval scored accuracy 0 where the head had 0.81).
sed 's/^model wine /model wine_c /; s/    loss    = cross_entropy/    classes = ["2", "1", "0"]\n    loss    = cross_entropy/' \
  "$examples/wine.mtl" >"$work/renamed/wine_c.mtl"
"$mtlc" build "$work/renamed/wine_c.mtl" -o "$work/wine_c" >/dev/null 2>&1 || fail "build wine_c failed"
order="task 'class' declares its classes 2, 1, 0, and the checkpoint's head was trained with the classes 0, 1, 2"
expect "eval, classes declared in another order" "$order" "$work/wine_c" eval --checkpoint "$good"
expect "predict, classes declared in another order" "$order" \
  "$work/wine_c" predict --checkpoint "$good" --input "$data"
"$work/wine_c" train --init-from "$good" --epochs 1 --no-save -q 2>"$work/init_order.txt" ||
  fail "init of a model that declares its classes failed: $(cat "$work/init_order.txt")"
grep -qF "note: task 'class' declares its classes 2, 1, 0, and $good trained its head with 0, 1, 2" \
  "$work/init_order.txt" || fail "init: no note on classes declared in another order: $(cat "$work/init_order.txt")"
# Damaged values: a parameter that is NaN, a standard deviation of 0 (no
# training writes either; they gave NaN predictions and a confident label).
# damage NAME BYTES OUT: the good checkpoint with BYTES (printf escapes) at
# the start of tensor NAME's data.
damage() {
  local n offset
  n=$(od -An -t u8 -N 8 "$good" | tr -d ' ')
  offset=$(head -c $((8 + n)) "$good" | tail -c "$n" |
    grep -o "\"$1\":{[^}]*\"data_offsets\":\[[0-9]*" | sed 's/.*\[//')
  [[ -n $offset ]] || { fail "no tensor $1 in the checkpoint"; return; }
  cp "$good" "$work/$3.safetensors"
  printf "$2" | dd of="$work/$3.safetensors" bs=1 seek=$((8 + n + offset)) conv=notrunc 2>/dev/null
}
damage trunk.0.weight '\x00\x00\xc0\x7f' nan_param
damage __standardize__.input.x.std '\x00\x00\x00\x00\x00\x00\x00\x00' zero_std
damage trunk.0.weight.exp_avg_sq '\x00\x00\x80\xbf' negative_moment
expect "eval, a NaN parameter" "nan_param\.safetensors.*not finite: trunk\.0\.weight\[0\] is nan" \
  "$wine" eval --checkpoint "$work/nan_param.safetensors"
expect "init-from, a NaN parameter" "cannot initialise from it: not finite: trunk\.0\.weight\[0\] is nan" \
  "$wine" train -q --no-save --init-from "$work/nan_param.safetensors"
expect "predict, a standard deviation of 0" "zero_std\.safetensors.*standardisation of input 'x': __standardize__\.input\.x\.std holds 0" \
  "$wine" predict --checkpoint "$work/zero_std.safetensors" --input "$data"
# A negative second moment: the resumed run's first update took its square root (NaN).
expect "resume, a negative second moment" "negative_moment\.safetensors.*negative: trunk\.0\.weight\.exp_avg_sq\[0\] is -1 \(Adam's second moment" \
  "$wine" train -q --no-save --resume "$work/negative_moment.safetensors"
"$wine" eval --checkpoint "$work/negative_moment.safetensors" >/dev/null ||
  fail "eval of a checkpoint whose optimizer state is damaged failed: it reads the parameters only"
# The good checkpoint still works after all that.
"$wine" eval --checkpoint "$good" >/dev/null || fail "the good checkpoint no longer loads"
finish
