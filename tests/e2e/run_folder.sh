#!/usr/bin/env bash
# run_folder.sh: every `train` writes a run folder (config, log, best and last
# checkpoints, summary), numbered so no run overwrites another; the summary
# labels what the run kept; and the built program's `eval` on the kept
# checkpoint reproduces the summary's validation and test numbers exactly.
source "$(dirname "$0")/common.sh"

model=$fixtures/held_out.mtl
"$mtlc" build "$model" -o "$work/held_out" >"$work/build.txt" 2>&1 ||
  { fail "build failed: $(cat "$work/build.txt")"; finish; }

"$work/held_out" train >"$work/train.txt" 2>&1 || fail "train failed: $(cat "$work/train.txt")"
cat "$work/train.txt"
run=runs/held_out/1
for f in config.json log.jsonl best.safetensors last.safetensors summary.json; do
  [[ -f $run/$f ]] || fail "the run folder lacks $f"
done
grep -q "run folder: $run" "$work/train.txt" || fail "train did not name its run folder"
grep -Eq '^validation, epoch [0-9]+ \((best|last)' "$work/train.txt" ||
  fail "the summary does not label its validation report"
grep -Eq '^test, with the parameters of epoch [0-9]+' "$work/train.txt" ||
  fail "the summary does not say which parameters the test used"

# A second run gets the next number; --run-dir and --no-save are obeyed.
"$mtlc" train "$model" -q --epochs 1 || fail "mtlc train failed"
[[ -f runs/held_out/2/summary.json ]] || fail "the second run did not get runs/held_out/2"
"$mtlc" train "$model" -q --epochs 1 --run-dir "$work/mine" || fail "--run-dir failed"
[[ -f $work/mine/last.safetensors ]] || fail "--run-dir wrote no checkpoint"
"$mtlc" train "$model" -q --epochs 1 --no-save || fail "--no-save failed"
[[ ! -d runs/held_out/3 ]] || fail "--no-save wrote a run folder"

# A --run-dir that holds a run is refused before anything is written, unless
# the run continues there (--resume of its checkpoint) or --overwrite replaces
# it: then none of the earlier run's files is left beside the new one's.
"$work/held_out" train -q --epochs 1 --run-dir "$work/reused" --report || fail "a run with a report failed"
cp "$work/reused/summary.json" "$work/reused-summary.json"
"$mtlc" train "$model" -q --epochs 2 --run-dir "$work/reused" >"$work/again.txt" 2>&1 &&
  fail "a second run into a folder that holds a run was not refused"
grep -q "error: --run-dir $work/reused: the folder holds a run already (best.safetensors, \
last.safetensors, summary.json); continue it with --resume $work/reused/last.safetensors, replace \
it with --overwrite, or choose another folder" "$work/again.txt" ||
  fail "the refusal does not say why and what to do: $(cat "$work/again.txt")"
cmp -s "$work/reused/summary.json" "$work/reused-summary.json" || fail "the refused run changed the folder"
"$mtlc" train "$model" -q --epochs 2 --run-dir "$work/reused" --resume "$work/reused/last.safetensors" ||
  fail "a run could not continue in its own folder"
# Without --run-dir a resume goes on in its checkpoint's run folder (it took a
# new folder, whose log and summary lacked the epochs before the resume);
# a checkpoint that is not in a run folder starts a new one.
"$mtlc" train "$model" -q --epochs 3 --resume "$work/reused/last.safetensors" ||
  fail "a resume without --run-dir failed"
grep -q '"epochs": 3' "$work/reused/summary.json" || fail "the resume did not go on in its run folder"
[[ $(grep -c '"type":"epoch"' "$work/reused/log.jsonl") == 3 ]] ||
  fail "the run folder's log does not hold the 3 epochs"
[[ ! -d runs/held_out/3 ]] || fail "the resume took a new run folder"
cp "$work/reused/last.safetensors" "$work/loose.safetensors"
"$mtlc" train "$model" -q --epochs 4 --resume "$work/loose.safetensors" ||
  fail "a resume of a checkpoint outside a run folder failed"
[[ -f runs/held_out/3/summary.json ]] || fail "a resume of a loose checkpoint did not get runs/held_out/3"
# Resumed from the run's best parameters, a run takes a new folder: in the
# run's own it replaced the epochs after the best.
cp "$work/reused/last.safetensors" "$work/reused-last.safetensors"
"$mtlc" train "$model" -q --epochs 4 --resume "$work/reused/best.safetensors" ||
  fail "a resume from best.safetensors failed"
cmp -s "$work/reused/last.safetensors" "$work/reused-last.safetensors" ||
  fail "a resume from best.safetensors replaced the run's last checkpoint"
[[ -f runs/held_out/4/summary.json ]] || fail "a resume from best.safetensors did not get runs/held_out/4"
# A run killed before its summary, then a resume refused: the folder gets no
# "failed" summary (the run it holds did not fail).
rm "$work/reused/summary.json"
"$mtlc" train "$model" -q --epochs 5 --batch 7 --resume "$work/reused/last.safetensors" 2>/dev/null &&
  fail "a resume with another batch was accepted"
[[ ! -f $work/reused/summary.json ]] || fail "a refused resume wrote a summary into the run's folder"
touch "$work/reused/notes.txt"
"$mtlc" train "$model" -q --epochs 1 --run-dir "$work/reused" --overwrite --no-shuffle ||
  fail "--overwrite failed"
[[ ! -f $work/reused/report.html && -f $work/reused/notes.txt ]] ||
  fail "--overwrite left the earlier run's report, or removed a file of the user's"
grep -q '"epochs": 1' "$work/reused/summary.json" || fail "--overwrite did not write the new run's summary"
# Files a run writes, in a folder without a run (the user's own config.json),
# are not replaced unasked.
mkdir -p "$work/own" && echo '{"my": "settings"}' >"$work/own/config.json"
"$mtlc" train "$model" -q --epochs 1 --run-dir "$work/own" 2>"$work/own.txt" &&
  fail "a folder with a config.json of the user's was taken"
grep -q -F "the folder holds files that a run writes (config.json), which this run would replace" \
  "$work/own.txt" || fail "no message for a folder with a config.json: $(cat "$work/own.txt")"
grep -q -F '"my"' "$work/own/config.json" || fail "the user's config.json was replaced"
# A replacement that cannot start (a misspelt method) leaves the run it would
# replace; one that starts from that run's own checkpoint reads it first.
cp "$work/reused/last.safetensors" "$work/reused-kept.safetensors"
"$mtlc" train "$model" -q --epochs 1 --run-dir "$work/reused" --overwrite --balance pcgard 2>/dev/null &&
  fail "--overwrite with an unknown method was accepted"
cmp -s "$work/reused/last.safetensors" "$work/reused-kept.safetensors" ||
  fail "--overwrite removed the run before its settings were checked"
"$mtlc" train "$model" -q --epochs 1 --no-shuffle --run-dir "$work/reused" --overwrite \
  --init-from "$work/reused/last.safetensors" 2>"$work/in-place.txt" ||
  fail "--overwrite --init-from the folder's own checkpoint failed: $(cat "$work/in-place.txt")"

# A run that cannot start (a resume of another run's checkpoint) leaves a
# summary that says why, and a report of it.
"$work/held_out" train -q --epochs 1 --run-dir "$work/nostart" --seed 5 \
  --resume "$work/reused/last.safetensors" 2>"$work/nostart.txt" && fail "a resume with another seed was accepted"
grep -q '"status": "failed"' "$work/nostart/summary.json" &&
  grep -q 'cannot resume' "$work/nostart/summary.json" ||
  fail "the run that did not start has no failed summary: $(ls "$work/nostart")"
"$mtlc" report "$work/nostart" -o "$work/nostart.html" >/dev/null || fail "no report of a run that did not start"
grep -q "The run failed: .*cannot resume" "$work/nostart.html" || fail "the report does not say why the run failed"
# It left nothing to continue: the next run into that folder starts there.
"$work/held_out" train -q --epochs 1 --run-dir "$work/nostart" 2>"$work/nostart2.txt" ||
  fail "a folder whose run failed to start was refused: $(cat "$work/nostart2.txt")"
grep -q '"status": "finished"' "$work/nostart/summary.json" ||
  fail "the run after a failed start wrote no summary of its own"
# A resume with no epochs left to train says so and leaves the run's files
# as they were (it rewrote the summary without its scores, and config.json).
md5sum "$work/reused/"* >"$work/before.md5"
out=$("$work/held_out" train --epochs 1 --no-shuffle --run-dir "$work/reused" \
  --resume "$work/reused/last.safetensors" 2>&1)
[[ $? -eq 0 && $out == *"nothing to do"* ]] || fail "a resume with nothing to train: $out"
md5sum "$work/reused/"* | cmp -s - "$work/before.md5" || fail "a resume with nothing to train changed its run's files"
# Refused in the run's own folder, the resume leaves that run's files as they were.
cp "$work/reused/summary.json" "$work/reused/config.json" "$work/"
"$work/held_out" train -q --epochs 2 --run-dir "$work/reused" --seed 5 \
  --resume "$work/reused/last.safetensors" 2>/dev/null && fail "a resume with another seed was accepted"
cmp -s "$work/summary.json" "$work/reused/summary.json" && cmp -s "$work/config.json" "$work/reused/config.json" ||
  fail "a refused resume changed its run's summary or config"

# Two runs started into one new folder: the second is refused (the first
# holds the folder while it runs, or has left its run there), and the
# folder is the first run's alone.
"$mtlc" train "$examples/penguins.mtl" -q --epochs 200 --seed 1 --run-dir "$work/shared" \
  >"$work/first.txt" 2>&1 &
first=$!
for _ in $(seq 600); do [[ -f $work/shared/config.json ]] && break; sleep 0.05; done
"$mtlc" train "$examples/penguins.mtl" -q --epochs 2 --seed 2 --run-dir "$work/shared" \
  >"$work/second.txt" 2>&1 && fail "a second run into a folder in use was not refused"
grep -Eq "error: .*shared: (another run is writing this folder|the folder holds a run already)" \
  "$work/second.txt" || fail "the second run's refusal: $(cat "$work/second.txt")"
wait "$first" || fail "the first run failed: $(cat "$work/first.txt")"
grep -q '"seed": 1' "$work/shared/config.json" || fail "the second run wrote the folder's config.json"
"$log_check" value "$work/shared/log.jsonl" end.epochs >/dev/null ||
  fail "the first run's log is not whole"

# SIGTERM (or Ctrl-C) stops a run after its step in progress: exit status
# 143, a message saying how to continue, a summary that says "interrupted",
# no temporary file left, and a checkpoint that loads and resumes.
"$work/held_out" train -q --epochs 100000 --run-dir "$work/stopped" 2>"$work/stopped.txt" &
stopping=$!
for _ in $(seq 600); do [[ -f $work/stopped/last.safetensors ]] && break; sleep 0.05; done
kill -TERM "$stopping"
wait "$stopping"
status=$?
[[ $status -eq 143 ]] || fail "a run stopped by SIGTERM exited with status $status"
grep -Eq "^stopped by SIGTERM after step [0-9]+; $work/stopped holds epoch [0-9]+: continue with \
--resume $work/stopped/last.safetensors$" "$work/stopped.txt" ||
  fail "the stopped run's message: $(cat "$work/stopped.txt")"
grep -q '"status": "interrupted"' "$work/stopped/summary.json" || fail "summary.json of a stopped run"
compgen -G "$work/stopped/*.tmp-*" >/dev/null && fail "a stopped run left a temporary file"
"$work/held_out" eval --checkpoint "$work/stopped/last.safetensors" >/dev/null ||
  fail "the stopped run's checkpoint does not load"
stopped_at=$(sed -n 's/.* holds epoch \([0-9]*\):.*/\1/p' "$work/stopped.txt")
"$work/held_out" train -q --epochs $((stopped_at + 1)) --run-dir "$work/stopped" \
  --resume "$work/stopped/last.safetensors" || fail "the stopped run does not resume"
# The resumed run's summary counts every epoch, and its report shows the kept
# epoch's scores, from the log when that epoch came before the resume.
grep -q "\"epochs\": $((stopped_at + 1))," "$work/stopped/summary.json" ||
  fail "the resumed run's summary does not count the epochs before it: $(cat "$work/stopped/summary.json")"
"$mtlc" report "$work/stopped" -o "$work/stopped.html" >/dev/null || fail "report of the resumed run"
kept=$("$log_check" value "$work/stopped/log.jsonl" end.kept_epoch | sed 's/.* = //')
grep -q "training, epoch $kept (kept)" "$work/stopped.html" ||
  fail "the resumed run's report has no column of the kept epoch $kept"

# eval on the kept checkpoint gives the summary's numbers, to the last bit.
kept=$("$log_check" value "$run/log.jsonl" end.kept_epoch | sed 's/.* = //')
best=$("$log_check" value "$run/log.jsonl" end.best_epoch | sed 's/.* = //')
[[ $kept == "$best" ]] || fail "with validation data the run kept epoch $kept, not the best ($best)"
"$work/held_out" eval --checkpoint "$run/best.safetensors" --json >"$work/eval.json" ||
  fail "eval failed"
"$log_check" same-json "$run/summary.json" /kept/validation "$work/eval.json" /splits/validation ||
  fail "eval's validation numbers differ from the summary's"
"$log_check" same-json "$run/summary.json" /test "$work/eval.json" /splits/test ||
  fail "eval's test numbers differ from the summary's"
"$work/held_out" eval --checkpoint "$run/last.safetensors" --json >"$work/eval-last.json" ||
  fail "eval of last failed"
"$log_check" same-json "$run/summary.json" /last/validation "$work/eval-last.json" \
  /splits/validation || fail "eval's numbers for the last epoch differ from the summary's"

# A step that is not finite is not taken: the run stops with exit status 1,
# names the epoch, step and task, and saves the last good step's parameters.
"$work/held_out" train --lr 1e17 --run-dir "$work/diverged" >"$work/diverged.txt" 2>&1
status=$?
cat "$work/diverged.txt"
[[ $status -eq 1 ]] || fail "a diverging run exited with status $status"
grep -Eq "error: training stopped at epoch 1, step [0-9]+: task '[a-z_]+' has loss (-?inf|nan)" \
  "$work/diverged.txt" || fail "the divergence message does not name the epoch, step and task"
grep -q '"status": "failed"' "$work/diverged/summary.json" || fail "summary.json does not say failed"
failed_step=$(sed -n 's/.*training stopped at epoch 1, step \([0-9]*\).*/\1/p' "$work/diverged.txt")
if python=$(command -v python3); then
  "$python" "$here/../runtime/read_checkpoint.py" "$work/diverged/last.safetensors" \
    >"$work/diverged.json" || fail "the last good step's checkpoint does not read"
  "$python" - "$work/diverged.json" "$failed_step" <<'PY' ||
import json, math, sys
ck = json.load(open(sys.argv[1]))
assert ck["metadata"]["step"] == str(int(sys.argv[2]) - 1), ck["metadata"]["step"]
bad = [n for n, t in ck["tensors"].items() if not all(math.isfinite(v) for v in t["values"])]
assert not bad, bad
PY
    fail "last.safetensors does not hold the finite parameters of the last good step"
fi
# A learning rate that would overflow every update is refused at the first step.
"$mtlc" train "$model" --lr 1e38 --no-save >"$work/huge.txt" 2>&1
status=$?
[[ $status -eq 1 ]] || fail "a learning rate of 1e38 exited with status $status"
grep -q "error: training stopped at epoch 1, step 1: every loss is finite, but a gradient or the \
learning rate is too large (2^60 or more) to update with" "$work/huge.txt" ||
  fail "a learning rate of 1e38 was not refused at step 1: $(cat "$work/huge.txt")"
finish
