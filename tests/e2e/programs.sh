#!/usr/bin/env bash
# programs.sh: `mtlc build` turns each example into a standalone program that
# depends on neither LLVM nor ANTLR (nor libfmt or the C++ runtime: ldd lists
# the C library only), and the program's info, train, eval (table and JSON)
# and predict commands work on the example's data.
#
# Usage: programs.sh MTLC LOG_CHECK EXAMPLE...
# Examples on Fashion-MNIST are skipped when the data set is not installed.
source "$(dirname "$0")/common.sh"

# predict_input NAME PROGRAM: a file to predict on: the training data file of
# a CSV or IDX model (the first path `info` lists), or else a small CSV with
# one column per input value, as programs read for synthetic-data models.
predict_input() {
  local name=$1 program=$2 line
  line=$("$program" info | grep '^data .*(train)')
  if [[ $line != *synthetic* ]]; then
    line=${line#*: }
    echo "${line%%, *}"
    return
  fi
  local width
  width=$("$program" info | awk '/^inputs$/ {on = 1; next} /^tasks$/ {on = 0}
    on { shape = $0; sub(/.*\[/, "", shape); sub(/\].*/, "", shape); n = split(shape, d, ", ");
         p = 1; for (i = 1; i <= n; i++) p *= d[i]; total += p }
    END { print total }')
  awk -v w="$width" 'BEGIN { for (r = 0; r < 4; r++) { line = "";
      for (c = 0; c < w; c++) line = line (c ? "," : "") (r == 0 ? "c" c : (c % 7) / 10 - 0.3);
      print line } }' >"$work/$name-input.csv"
  echo "$work/$name-input.csv"
}

check_example() {
  local name=$1 file=$examples/$1.mtl program=$work/$1
  if grep -q "$fashion" "$file" && ! have_fashion; then
    echo "$name: skipped (no Fashion-MNIST)"
    return
  fi
  "$mtlc" build "$file" -o "$program" 2>"$work/$name-build.txt" ||
    { fail "$name: mtlc build failed: $(cat "$work/$name-build.txt")"; return; }
  local libs
  libs=$(ldd "$program")
  grep -qiE 'llvm|antlr|fmt|stdc\+\+' <<<"$libs" && fail "$name: the program links $libs"
  grep -q 'libc\.so' <<<"$libs" || fail "$name: ldd shows no C library: $libs"

  "$program" --help | grep -q 'predict' || fail "$name: --help does not list predict"
  local out status
  out=$("$program" bogus 2>&1)
  status=$?
  [[ $status -eq 2 && $out == *"unknown command 'bogus'; the commands are: train, eval, predict, info"* ]] ||
    fail "$name: an unknown command gave status $status and: $out"
  "$program" info >"$work/$name-info.txt" || fail "$name: info failed"
  grep -q "^model $name" "$work/$name-info.txt" || fail "$name: info does not name the model"
  grep -q "^  total " "$work/$name-info.txt" || fail "$name: info has no parameter count"

  local ck=$work/$name-ck
  "$program" train --epochs 1 -q --run-dir "$ck" --log "$work/$name.jsonl" \
    2>"$work/$name-train.txt" || { fail "$name: train failed: $(cat "$work/$name-train.txt")"; return; }
  [[ -f $ck/last.safetensors ]] || { fail "$name: train wrote no checkpoint"; return; }
  "$log_check" value "$work/$name.jsonl" end.epochs >/dev/null ||
    fail "$name: the training log has no end record"

  "$program" eval --checkpoint "$ck/last.safetensors" >"$work/$name-eval.txt" 2>&1 ||
    fail "$name: eval failed: $(cat "$work/$name-eval.txt")"
  grep -q 'loss' "$work/$name-eval.txt" || fail "$name: eval printed no losses"
  "$program" eval --checkpoint "$ck/last.safetensors" --json >"$work/$name-eval.json" \
    2>/dev/null || fail "$name: eval --json failed"
  grep -q '"splits"' "$work/$name-eval.json" || fail "$name: eval --json printed no splits"

  local input
  input=$(predict_input "$name" "$program")
  "$program" predict --checkpoint "$ck/last.safetensors" --input "$input" \
    --output "$work/$name-pred.csv" 2>"$work/$name-pred.txt" ||
    { fail "$name: predict failed: $(cat "$work/$name-pred.txt")"; return; }
  # A header, at least one row, and as many fields in every row as in the header.
  awk -F, 'NR == 1 { n = NF; if ($1 != "row") bad = 1 } NR > 1 && NF != n { bad = 1 }
    END { exit bad || NR < 2 }' "$work/$name-pred.csv" ||
    fail "$name: malformed predictions: $(head -3 "$work/$name-pred.csv")"
  echo "$name: built, trained, evaluated, predicted $(($(wc -l <"$work/$name-pred.csv") - 1)) rows"
}

# mtlc itself names an unknown command, and refuses to write into a missing folder or
# over a folder, before compiling.
out=$("$mtlc" bogus 2>&1)
[[ $? -eq 2 && $out == *"unknown command 'bogus'; the commands are: check, shapes, fmt, emit"* ]] ||
  fail "mtlc bogus: $out"
echo "// no model here" >"$work/empty.mtl"
out=$("$mtlc" build "$work/empty.mtl" 2>&1)
[[ $? -eq 1 && $out == "error: $work/empty.mtl defines no model to compile"* ]] ||
  fail "mtlc build of a file without a model: $out"
out=$("$mtlc" build "$examples/mmoe_synthetic.mtl" --model mmo 2>&1)
[[ $? -eq 1 && $out == *"$examples/mmoe_synthetic.mtl has no model named 'mmo' (its models: shared_bottom, mmoe,"*"did you mean 'mmoe'?"* ]] ||
  fail "mtlc build --model of a name the file lacks: $out"
out=$("$mtlc" build "$examples/wine.mtl" -o "$work/no/such/folder/wine" 2>&1)
[[ $? -eq 1 && $out == *"there is no folder"* ]] || fail "mtlc build into a missing folder: $out"
touch "$work/a_file"
out=$("$mtlc" build "$examples/wine.mtl" -o "$work/a_file/wine" 2>&1)
[[ $? -eq 1 && $out == *"'$work/a_file' is a file, not a folder"* ]] || fail "mtlc build into a file: $out"
mkdir "$work/a_folder"
out=$("$mtlc" build "$examples/wine.mtl" -o "$work/a_folder" 2>&1)
[[ $? -eq 1 && $out == "error: cannot write '$work/a_folder': it is a folder; name the file to write \
in it (-o $work/a_folder/NAME), or build a library into it with --lib" ]] ||
  fail "mtlc build -o an existing folder: $out"

for example in "$@"; do
  check_example "$example"
done

# A program is linked beside its name and renamed over it: a failed link
# leaves the program it would replace as it was (and no temporary file), and
# a place that takes no new file, or is no regular file, is said so.
if [[ -x $work/wine ]]; then
  before=$(md5sum <"$work/wine")
  out=$(CXX=false "$mtlc" build "$examples/wine.mtl" -o "$work/wine" 2>&1)
  [[ $? -eq 1 && $out == *"linking failed (exit status 1)"* ]] || fail "a failed link: $out"
  [[ $(md5sum <"$work/wine") == "$before" ]] || fail "a failed link changed the program"
  left=$(find "$work" -maxdepth 1 -name 'wine.tmp-*')
  [[ -z $left ]] || fail "a failed link left $left"
fi
# Through a symbolic link that names no file yet, the program is that file.
ln -s made/by_link "$work/dangling"
mkdir "$work/made"
"$mtlc" build "$examples/wine.mtl" -o "$work/dangling" >/dev/null 2>&1 || fail "build -o a dangling link"
[[ -L $work/dangling && -x $work/made/by_link ]] || fail "build -o a dangling link replaced the link"
out=$("$mtlc" build "$examples/wine.mtl" -o /proc/self/status 2>&1)
[[ $? -eq 1 && $out == "error: cannot write the program '/proc/self/status': cannot create a file \
in '/proc/self': "* ]] || fail "mtlc build -o /proc/self/status: $out"
out=$("$mtlc" build "$examples/wine.mtl" -o /dev/null 2>&1)
[[ $? -eq 1 && $out == "error: cannot write the program '/dev/null': it exists and is not a \
regular file" ]] || fail "mtlc build -o /dev/null: $out"
# Nor over the data the model reads (a copy: a failure here must not
# clobber the examples), by build, emit obj or a training log.
mkdir -p "$work/own/data"
cp -r "$examples/wine.mtl" "$examples/lib" "$work/own/" && cp "$examples/data/wine_data.csv" "$work/own/data/"
for args in "build $work/own/wine.mtl -o" "emit obj $work/own/wine.mtl -o" \
  "train $work/own/wine.mtl --no-save --epochs 1 --log"; do
  out=$("$mtlc" $args "$work/own/data/wine_data.csv" 2>&1)
  [[ $? -eq 1 && $out == *"it is $work/own/data/wine_data.csv, which this command reads; write elsewhere" ]] ||
    fail "$args the model's data: $out"
done
cmp -s "$work/own/data/wine_data.csv" "$examples/data/wine_data.csv" || fail "the model's data was overwritten"
# A log replaces only a log: not another model, nor a checkpoint, nor a file
# the run itself writes into its folder.
cp "$examples/penguins.mtl" "$work/own/other.mtl"
out=$("$mtlc" train "$work/own/wine.mtl" --no-save --epochs 1 --log "$work/own/other.mtl" 2>&1)
[[ $? -eq 1 && $out == *"--log $work/own/other.mtl: it exists and is not a run's log (a log replaces only a log)"* ]] ||
  fail "--log over a model: $out"
cmp -s "$work/own/other.mtl" "$examples/penguins.mtl" || fail "--log replaced a model"
"$mtlc" train "$work/own/wine.mtl" --no-save --epochs 1 -q --log "$work/own/wine.jsonl" &&
  "$mtlc" train "$work/own/wine.mtl" --no-save --epochs 1 -q --log "$work/own/wine.jsonl" ||
  fail "--log did not replace a log"
out=$("$mtlc" train "$work/own/wine.mtl" --run-dir "$work/own/run" --epochs 1 \
  --log "$work/own/run/last.safetensors" 2>&1)
[[ $? -eq 1 && $out == *"the run writes its last.safetensors there; write the log to another file"* ]] ||
  fail "--log as the run's own checkpoint: $out"

# Where the output goes: --output replaces only a regular file (through a
# symbolic link, the file it points to; a FIFO is written to, never replaced;
# a file named like a temporary one stays), and a full disk behind standard
# output is an error with exit status 1, never a crash or a silent 0.
wine=$work/wine
if [[ -x $wine && -f $work/wine-ck/last.safetensors ]]; then
  predict=("$wine" predict --checkpoint "$work/wine-ck/last.safetensors"
    --input "$examples/data/wine_data.csv")
  "${predict[@]}" --output "$work/expected.csv" || fail "predict --output failed"
  chmod 600 "$work/expected.csv"
  "${predict[@]}" --output "$work/expected.csv" || fail "predict --output over a file failed"
  [[ $(stat -c %a "$work/expected.csv") == 600 ]] || fail "predict --output changed a 600 file's mode"
  out=$("${predict[@]}" --output "$work/own/other.mtl" 2>&1)
  [[ $? -eq 1 && $out == *"--output $work/own/other.mtl: it exists and is not a file of predictions"* ]] ||
    fail "predict --output over a model: $out"
  cmp -s "$work/own/other.mtl" "$examples/penguins.mtl" || fail "predict --output replaced a model"
  echo row,old >"$work/target.csv"
  ln -s target.csv "$work/link.csv"
  echo precious >"$work/link.csv.tmp"
  "${predict[@]}" --output "$work/link.csv" || fail "predict --output through a link failed"
  [[ -L $work/link.csv ]] || fail "predict --output replaced a symbolic link with a file"
  cmp -s "$work/target.csv" "$work/expected.csv" || fail "predict --output did not write through the link"
  [[ $(cat "$work/link.csv.tmp") == precious ]] || fail "predict --output overwrote NAME.tmp"
  ln -s not_yet.csv "$work/dangling.csv" # a link to a file that does not exist yet
  "${predict[@]}" --output "$work/dangling.csv" || fail "predict --output through a dangling link"
  [[ -L $work/dangling.csv ]] && cmp -s "$work/not_yet.csv" "$work/expected.csv" ||
    fail "predict --output replaced a link that named no file yet"
  mkfifo "$work/pipe"
  cat "$work/pipe" >"$work/from-pipe.csv" &
  "${predict[@]}" --output "$work/pipe" || fail "predict --output to a FIFO failed"
  wait
  [[ -p $work/pipe ]] || fail "predict --output replaced a FIFO with a file"
  cmp -s "$work/from-pipe.csv" "$work/expected.csv" || fail "the FIFO's reader did not get the predictions"
  if [[ -c /dev/full ]]; then
    for args in "predict --checkpoint $work/wine-ck/last.safetensors --input $examples/data/wine_data.csv" \
      "eval --checkpoint $work/wine-ck/last.safetensors" "info"; do
      out=$("$wine" $args 2>&1 >/dev/full)
      [[ $? -eq 1 && $out == *"error: cannot write"*"No space left on device"* ]] ||
        fail "wine $args into a full disk: $out"
    done
    out=$("$mtlc" shapes "$examples/wine.mtl" 2>&1 >/dev/full)
    [[ $? -eq 1 && $out == "error: cannot write the output: No space left on device" ]] ||
      fail "mtlc shapes into a full disk: $out"
    # --help and --version print through CLI11 (std::cout), not fmt.
    for args in "--help" "--version" "train --help" "fmt --help"; do
      out=$("$mtlc" $args 2>&1 >/dev/full)
      [[ $? -eq 1 && $out == "error: cannot write the output: No space left on device" ]] ||
        fail "mtlc $args into a full disk: $out"
    done
    out=$("$wine" --help 2>&1 >/dev/full)
    [[ $? -eq 1 && $out == *"No space left on device"* ]] || fail "wine --help into a full disk: $out"
    # A log that cannot be written fails the run (it exited 0 with no log).
    out=$("$wine" train --epochs 2 --no-save -q --log /dev/full 2>&1)
    [[ $? -eq 1 && $out == *"error: /dev/full: cannot write the log: No space left on device"* ]] ||
      fail "a log into a full disk: $out"
  fi
else
  fail "the wine program or its checkpoint is missing ($wine, $work/wine-ck)"
fi

# eval on a file that leaves a task's label column out scores the other tasks.
if [[ -x $work/penguins && -f $work/penguins-ck/last.safetensors ]]; then
  cut -d, -f1-6,8 "$examples/data/penguins.csv" >"$work/no_sex.csv"
  "$work/penguins" eval --checkpoint "$work/penguins-ck/last.safetensors" \
    --data "train=$work/no_sex.csv" >"$work/no_sex.txt" 2>&1 ||
    fail "eval without the sex column failed: $(cat "$work/no_sex.txt")"
  grep -Eq '^  sex +loss -  accuracy -  auc -  \(0 labelled\)' "$work/no_sex.txt" ||
    fail "eval scored the task whose labels are absent: $(cat "$work/no_sex.txt")"
  grep -Eq '^  species +loss [0-9.]+  accuracy 0\.[0-9]+' "$work/no_sex.txt" ||
    fail "eval did not score species: $(cat "$work/no_sex.txt")"
  # A run trained with --data on other rows: eval without --data cannot find
  # the rows it held out in the model's data, and says so (it evaluated rows
  # the run had trained on).
  (head -1 "$examples/data/penguins.csv" && tail -n +2 "$examples/data/penguins.csv" |
    awk 'NR % 3 != 0') >"$work/two_thirds.csv"
  "$work/penguins" train --data "train=$work/two_thirds.csv" --epochs 2 -q \
    --run-dir "$work/two_thirds" 2>/dev/null || fail "train on two thirds of penguins failed"
  out=$("$work/penguins" eval --checkpoint "$work/two_thirds/last.safetensors" 2>&1)
  [[ $? -eq 1 && $out == *"its run trained on 182 rows and held out 46 for validation, but the model's training data splits into 273 and 69"* ]] ||
    fail "eval without --data of a run trained on other data: $out"
fi

# No command writes over a file it reads: each is refused, and the file stays.
mkdir -p "$work/own" && cp -r "$examples/penguins.mtl" "$examples/lib" "$work/own/" &&
  mkdir -p "$work/own/data" && cp "$examples/data/penguins.csv" "$work/own/data/"
own=$work/own/penguins.mtl
md5sum "$own" "$work/own/data/penguins.csv" "$work/own/lib/blocks.mtl" >"$work/own.md5"
refused() { # WHAT PATTERN COMMAND...
  local what=$1 pattern=$2
  shift 2
  out=$("$@" 2>&1)
  [[ $? -eq 1 && $out == *"$pattern"* ]] || fail "$what: $out"
}
refused "emit -o the model" "-o $own: it is $own, which this command reads" "$mtlc" emit llvm "$own" -o "$own"
refused "build -o the model" "-o $own: it is $own, which this command reads" "$mtlc" build "$own" -o "$own"
refused "train --log the data" "--log $work/own/data/penguins.csv: it is" \
  "$mtlc" train "$own" --no-save -q --epochs 1 --log "$work/own/data/penguins.csv"
refused "train --log the model" "--log $own: it is" "$mtlc" train "$own" --no-save -q --log "$own"
refused "emit -o an imported file" "-o $work/own/lib/blocks.mtl: it is" \
  "$mtlc" emit ir "$own" -o "$work/own/lib/blocks.mtl"
if [[ -f $work/penguins-ck/last.safetensors ]]; then
  refused "predict --output the input" "--output $work/own/data/penguins.csv: it is" \
    "$work/penguins" predict --checkpoint "$work/penguins-ck/last.safetensors" \
    --input "$work/own/data/penguins.csv" --output "$work/own/data/penguins.csv"
  refused "report -o the summary" "-o $work/penguins-ck/summary.json: it is" \
    "$mtlc" report "$work/penguins-ck" -o "$work/penguins-ck/summary.json"
fi
md5sum -c --quiet "$work/own.md5" || fail "a refused command changed the file it reads"

# A row whose inputs lie far outside the training data's (data/far.mtl's
# model) makes outputs that are not finite: predict prints them, chooses no
# class from them, and warns of the row on standard error.
mkdir "$work/far"
printf 'a,b\n0.5,0.25\n3e38,-3e38\n' >"$work/far/in.csv"
if "$mtlc" build "$fixtures/far.mtl" -o "$work/far/far" >/dev/null 2>&1 &&
  "$work/far/far" train --run-dir "$work/far/run" -q >/dev/null 2>&1; then
  out=$("$work/far/far" predict --checkpoint "$work/far/run/last.safetensors" \
    --input "$work/far/in.csv" 2>"$work/far/err.txt")
  [[ $? -eq 0 && $(sed -n 2p <<<"$out") == 2,[0-2],[0-2],* && $(sed -n 3p <<<"$out") == 3,,,* ]] ||
    fail "predict of a row far outside the training data: $out"
  grep -q "in.csv: row 3: task 'c' predicts values that are not finite" "$work/far/err.txt" ||
    fail "predict of a row far outside the training data warned: $(cat "$work/far/err.txt")"
else
  fail "the far model did not build or train"
fi
finish
