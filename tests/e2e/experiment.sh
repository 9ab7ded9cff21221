#!/usr/bin/env bash
# experiment.sh: `mtlc experiment` on the penguins. Its multi-task run with a
# search over one value is a plain `mtlc train` run with that value, step for
# step; its single-task baseline of a task is a hand-written single-task
# model of that task, step for step; the folder holds results.json, .csv and
# a log per run; a resumed experiment repeats no finished run; bad plans are
# errors that say what is wrong.
source "$(dirname "$0")/common.sh"

# penguins.mtl with a test split, fewer epochs and an experiment block.
sed -e "s|import \"lib/blocks.mtl\"|import \"$examples/lib/blocks.mtl\"|" \
  -e "s|data/penguins.csv|$examples/data/penguins.csv|" \
  -e 's|train { epochs = 100, batch = 16, seed = 7, validate = 0.2 }|train { epochs = 8, batch = 16, seed = 7, validate = 0.2, test = 0.2 }\n  experiment {\n    baselines = single_task, seeds = 2\n    search { lr = [0.003] }\n  }|' \
  "$examples/penguins.mtl" >"$work/pg.mtl"
grep -c "search { lr = \[0.003\] }" "$work/pg.mtl" >/dev/null || fail "the model was not rewritten"

"$mtlc" -v experiment "$work/pg.mtl" --dir "$work/exp" --log-every 1 >"$work/out.txt" 2>"$work/err.txt" ||
  fail "the experiment failed: $(cat "$work/err.txt")"
# Each baseline loads the same file, and holds the multi-task model's inputs, not its own.
for task in species sex body_mass; do
  grep -q "^mtlc: stl:$task shares the multi-task model's input values ([0-9.]* kB held once)$" \
    "$work/err.txt" || fail "baseline $task does not share the inputs: $(cat "$work/err.txt")"
done
for file in experiment.json runs.jsonl results.json results.csv runs/mtl-seed7/log.jsonl \
  runs/stl-species-seed8/log.jsonl runs/search-p1-f3/log.jsonl; do
  [[ -s $work/exp/$file ]] || fail "the experiment folder lacks $file"
done
[[ $(wc -l <"$work/exp/runs.jsonl") -eq 11 ]] ||
  fail "expected 11 runs (3 folds, 3 tasks x 2 seeds alone, 2 multi-task): $(wc -l <"$work/exp/runs.jsonl")"
grep -c "Δm = " "$work/out.txt" >/dev/null || fail "no Δm in the table: $(cat "$work/out.txt")"
# The split trains on 204 of the 342 rows and validates on 69 (the other 69
# test); each search run trains on two thirds of those 273 and validates on
# the third.
rows() { echo "$("$log_check" value "$1" start.train_rows), $("$log_check" value "$1" start.val_rows)"; }
for run in mtl-seed7 stl-sex-seed8; do
  [[ $(rows "$work/exp/runs/$run/log.jsonl") == "start.train_rows = 204, start.val_rows = 69" ]] ||
    fail "run $run: $(rows "$work/exp/runs/$run/log.jsonl")"
done
for fold in 1 2 3; do
  [[ $(rows "$work/exp/runs/search-p1-f$fold/log.jsonl") == "start.train_rows = 182, start.val_rows = 91" ]] ||
    fail "search fold $fold: $(rows "$work/exp/runs/search-p1-f$fold/log.jsonl")"
done
# Its report is never written over a run's log that it reads.
log=$work/exp/runs/stl-species-seed8/log.jsonl
before=$(md5sum <"$log")
out=$("$mtlc" report "$work/exp" -o "$log" 2>&1)
[[ $? -eq 1 && $out == *"-o $log: it is"*"which this command reads"* ]] ||
  fail "report -o a run's log: $out"
[[ $(md5sum <"$log") == "$before" ]] || fail "report -o changed a run's log"
grep -c "^delta_m,percent,true," "$work/exp/results.csv" >/dev/null || fail "no Δm in results.csv"
[[ $(grep -c "^species,accuracy,true,\|^sex,accuracy,true,\|^body_mass,mse,false," \
  "$work/exp/results.csv") -eq 3 ]] || fail "results.csv lacks a task: $(cat "$work/exp/results.csv")"

# The search's one point, refitted with the model's seed, is a plain run.
"$mtlc" train "$work/pg.mtl" --lr 0.003 --run-dir "$work/plain" --log-every 1 -q ||
  fail "the plain run failed"
"$log_check" same-steps "$work/exp/runs/mtl-seed7/log.jsonl" "$work/plain/log.jsonl" ||
  fail "the experiment's multi-task run is not the plain run"
for task in species sex body_mass; do
  a=$("$log_check" value "$work/exp/runs/mtl-seed7/log.jsonl" "end.test.tasks.$task.loss")
  b=$("$log_check" value "$work/plain/log.jsonl" "end.test.tasks.$task.loss")
  [[ -n $a && $a == "$b" ]] || fail "test loss of $task: experiment $a, plain run $b"
done

# The single-task baseline of species is species.mtl written by hand.
awk '
  /^  task sex : binary/ || /^  task body_mass : regress/ { skip = 1 }
  skip && /^  }/ { skip = 0; next }
  skip { next }
  /^    (sex|body_mass) +=/ { next }
  { print }
' "$work/pg.mtl" | sed -e '/^  experiment {/,/^  }/d' >"$work/species.mtl"
grep -c "task sex" "$work/species.mtl" >/dev/null && fail "species.mtl still has the sex task"
"$mtlc" train "$work/species.mtl" --run-dir "$work/alone" --log-every 1 -q 2>"$work/alone.txt" ||
  fail "the hand-written single-task model failed: $(cat "$work/alone.txt")"
"$log_check" same-steps "$work/exp/runs/stl-species-seed7/log.jsonl" "$work/alone/log.jsonl" ||
  fail "the derived single-task baseline is not the hand-written single-task model"

# Resuming: the finished runs stay, a cut-short last line is dropped, the rest run.
cp -r "$work/exp" "$work/again"
head -5 "$work/exp/runs.jsonl" >"$work/again/runs.jsonl"
printf '{"key":"mtl/se' >>"$work/again/runs.jsonl"
rm "$work/again/results.json"
"$mtlc" experiment "$work/pg.mtl" --resume "$work/again" --log-every 1 >"$work/resumed.txt" 2>&1 ||
  fail "resuming failed: $(cat "$work/resumed.txt")"
grep -c "5 of 11 runs finished already" "$work/resumed.txt" >/dev/null ||
  fail "the resume did not count the finished runs: $(cat "$work/resumed.txt")"
"$log_check" same-json "$work/exp/results.json" /tasks "$work/again/results.json" /tasks ||
  fail "the resumed experiment's results differ"

# With a test data set of its own, nothing is held out of the training data,
# which moves into the runs (not copied): the multi-task run is still the
# plain run, step for step, and the search's folds and the baselines' rows
# are the whole training data's.
awk 'NR == 1 || NR % 5 != 0' "$examples/data/penguins.csv" >"$work/pg_train.csv"
awk 'NR == 1 || NR % 5 == 0' "$examples/data/penguins.csv" >"$work/pg_test.csv"
sed -e "s|import \"lib/blocks.mtl\"|import \"$examples/lib/blocks.mtl\"|" \
  -e "s|data/penguins.csv|$work/pg_train.csv|" \
  -e 's|train { epochs = 100, batch = 16, seed = 7, validate = 0.2 }|train { epochs = 8, batch = 16, seed = 7, data = train, test = held }\n  experiment {\n    baselines = single_task\n    search { lr = [0.003] }\n  }|' \
  "$examples/penguins.mtl" |
  awk '/^  data train = csv/ { copy = 1 }
    copy { block = block $0 "\n" }
    { print }
    copy && /^  }$/ { copy = 0; sub(/data train/, "data held", block); sub(/pg_train/, "pg_test", block); printf "%s", block }' \
    >"$work/whole.mtl"
grep -c "data held = csv(\"$work/pg_test.csv\"" "$work/whole.mtl" >/dev/null || fail "whole.mtl was not written"
"$mtlc" experiment "$work/whole.mtl" --dir "$work/whole" --log-every 1 >"$work/out.txt" 2>"$work/err.txt" ||
  fail "the experiment on whole training data failed: $(cat "$work/err.txt")"
[[ $(wc -l <"$work/whole/runs.jsonl") -eq 7 ]] ||
  fail "expected 7 runs (3 folds, 3 tasks alone, 1 multi-task): $(cat "$work/whole/runs.jsonl")"
"$mtlc" train "$work/whole.mtl" --lr 0.003 --run-dir "$work/plain_whole" --log-every 1 -q ||
  fail "the plain run on whole training data failed"
"$log_check" same-steps "$work/whole/runs/mtl-seed7/log.jsonl" "$work/plain_whole/log.jsonl" ||
  fail "on whole training data, the experiment's multi-task run is not the plain run"
a=$("$log_check" value "$work/whole/runs/mtl-seed7/log.jsonl" "end.test.tasks.species.loss")
b=$("$log_check" value "$work/plain_whole/log.jsonl" "end.test.tasks.species.loss")
[[ -n $a && $a == "$b" ]] || fail "on whole training data, test loss of species: experiment $a, plain $b"

# SIGTERM (or Ctrl-C) stops the runs in progress after their step: they are
# not recorded, the finished ones are, and the experiment says how to go on,
# exiting as the signal would have ended it; --resume then finishes it.
"$mtlc" experiment "$work/pg.mtl" --dir "$work/stopped" --epochs 20000 --jobs 1 \
  >"$work/stopped.txt" 2>&1 &
stopping=$!
for _ in $(seq 1200); do [[ -s $work/stopped/runs.jsonl ]] && break; sleep 0.05; done
kill -TERM "$stopping"
wait "$stopping"
status=$?
[[ $status -eq 143 ]] || fail "an experiment stopped by SIGTERM exited with $status: $(cat "$work/stopped.txt")"
grep -Eq "^stopped with [0-9]+ of 11 runs finished; $work/stopped keeps them: continue with \
--resume $work/stopped$" "$work/stopped.txt" || fail "the stopped experiment's message: $(cat "$work/stopped.txt")"
grep -q "compiled, writing $work/stopped" "$work/stopped.txt" ||
  fail "the stopped experiment's output was lost: $(cat "$work/stopped.txt")"
finished=$(wc -l <"$work/stopped/runs.jsonl")
[[ $finished -ge 1 && $finished -lt 11 ]] || fail "the stopped experiment recorded $finished runs"
"$mtlc" experiment "$work/pg.mtl" --resume "$work/stopped" --epochs 20000 --jobs 1 -q 2>/dev/null &
resuming=$!
for _ in $(seq 1200); do [[ $(wc -l <"$work/stopped/runs.jsonl") -gt $finished ]] && break; sleep 0.05; done
kill -TERM "$resuming"
wait "$resuming"
[[ $(wc -l <"$work/stopped/runs.jsonl") -gt $finished ]] || fail "the resumed experiment ran nothing"

expect_error() { # ARGS... then the message as the last argument
  local message=${*: -1}
  "$mtlc" experiment "${@:1:$#-1}" 2>"$work/e.txt" >/dev/null && fail "$* was accepted"
  grep -c -F -e "$message" "$work/e.txt" >/dev/null || fail "for $*: $(cat "$work/e.txt")"
}
expect_error "$work/pg.mtl" --resume "$work/exp" --seeds 3 \
  "a resumed experiment must be the same, and that experiment's seeds was 2, this one's is 3"
# Every difference is named, and nothing claims to continue the experiment.
out=$("$mtlc" experiment "$work/pg.mtl" --resume "$work/exp" --seeds 3 --seed 9 2>&1)
[[ $? -eq 1 && $out == *"seed was "*"this one's is 9; its seeds was 2, this one's is 3" ]] ||
  fail "--resume with two differences: $out"
[[ $out == *continuing* ]] && fail "a refused --resume said it was continuing: $out"
expect_error "$work/pg.mtl" --dir "$work/exp" "holds an experiment already; continue it with --resume"
# A folder without an experiment whose files are named as an experiment's.
mkdir -p "$work/mine" && echo "my,results" >"$work/mine/results.csv"
expect_error "$work/pg.mtl" --dir "$work/mine" \
  "the folder holds files that an experiment writes (results.csv), which this one would replace"
[[ $(cat "$work/mine/results.csv") == "my,results" ]] || fail "the user's results.csv was replaced"
# A folder where a file is: said before compiling (-v would print the stages).
touch "$work/a_file"
out=$("$mtlc" -v experiment "$work/pg.mtl" --dir "$work/a_file/exp" 2>&1)
[[ $? -eq 1 && $out == "error: --dir $work/a_file/exp: $work/a_file is a file, not a folder; name a \
folder for the experiment" ]] || fail "--dir under a file: $out"
sed 's/^\(    head *= .*\)$/\1\n    auxiliary/' "$work/pg.mtl" >"$work/aux.mtl"
expect_error "$work/aux.mtl" --dir "$work/aux" \
  "every task of model 'penguins' is auxiliary; make one a main task (leave out \`auxiliary\`)"
# A folder that cannot take the experiment is refused before compiling, and
# nothing claims to write there.
mkdir "$work/empty"
out=$("$mtlc" -v experiment "$work/pg.mtl" --resume "$work/empty" 2>&1)
[[ $? -eq 1 && $out == "error: --resume $work/empty: no experiment there ($work/empty/experiment.json \
is missing or unreadable)" ]] || fail "--resume of an empty folder: $out"
# A record whose fields have other types (hand-edited) is named by its line,
# where a resume aborted on it or blamed the data.
cp -r "$work/exp" "$work/typo"
sed -i '1s/"scored_on":"[a-z]*"/"scored_on":5/' "$work/typo/runs.jsonl"
expect_error "$work/pg.mtl" --resume "$work/typo" \
  "typo/runs.jsonl:1: \"scored_on\" is number, not text; remove the line (its run is then run again)"
printf '{"model": "penguins", ' >"$work/typo/experiment.json"
expect_error "$work/pg.mtl" --resume "$work/typo" "typo/experiment.json is not the JSON object an experiment writes"
# A changed model is refused before compiling too (-v would print the stages).
sed 's/epochs = /epochs =  /' "$work/pg.mtl" >"$work/edited.mtl"
out=$("$mtlc" -v experiment "$work/edited.mtl" --resume "$work/exp" 2>&1)
[[ $? -eq 1 && $out == *"a resumed experiment must be the same, and that experiment's source_hash was "* &&
  $out != *"mtlc: jit"* ]] || fail "--resume of an edited model: $out"
# Data changed under the same path since the experiment began: its runs
# would be scored on other rows than the earlier ones, so a resume is refused.
cp "$examples/data/penguins.csv" "$work/pdata.csv"
sed -e "s|$examples/data/penguins.csv|$work/pdata.csv|" -e 's/baselines = single_task, seeds = 2/seeds = 1/' \
  -e '/search { lr = \[0.003\] }/d' "$work/pg.mtl" >"$work/pgd.mtl"
"$mtlc" experiment "$work/pgd.mtl" --dir "$work/expd" >/dev/null 2>&1 || fail "the experiment on a copy failed"
"$mtlc" experiment "$work/pgd.mtl" --resume "$work/expd" >/dev/null 2>&1 || fail "resuming it unchanged failed"
sed -i '3d' "$work/pdata.csv"
expect_error "$work/pgd.mtl" --resume "$work/expd" \
  "a resumed experiment must be the same, and that experiment's data_read was \"train: 342 rows, values "
# A folder begun before mtlc recorded the data read resumes as it did then.
sed -i '/"data_read"/d' "$work/expd/experiment.json"
"$mtlc" experiment "$work/pgd.mtl" --resume "$work/expd" >/dev/null 2>&1 ||
  fail "a folder without data_read did not resume"
# A search point whose runs fail (an lr that diverges) is recorded with its
# settings, so the runs table says which lr failed.
sed -e 's/baselines = single_task, seeds = 2/seeds = 1/' -e 's/search { lr = \[0.003\] }/search { lr = [0.003, 1e30] }/' \
  "$work/pg.mtl" >"$work/diverge.mtl"
"$mtlc" experiment "$work/diverge.mtl" --dir "$work/diverge" -q >"$work/diverge.txt" 2>&1 ||
  fail "the experiment with a diverging point failed: $(cat "$work/diverge.txt")"
failed=$(grep '"status":"failed"' "$work/diverge/runs.jsonl" | head -1)
[[ $failed == *'"lr":1e+30'* && $failed == *'"balance":'* && $failed == *'"weights":'* ]] ||
  fail "a failed search run without its settings: $failed"
expect_error "$examples/wine.mtl" "model 'wine' has no experiment block"
sed -e 's/, validate = 0.2, test = 0.2//' "$work/pg.mtl" >"$work/unscored.mtl"
expect_error "$work/unscored.mtl" "an experiment scores each run on test data, or else on validation data"
finish
