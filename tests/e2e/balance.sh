#!/usr/bin/env bash
# balance.sh: every balancing method trains an example from the command line
# and reports what it did in the log; a gradient method repeats bit for bit
# on one thread and on two; a DWA run stopped and resumed ends like one that
# was not (its loss history is in the checkpoint), and a FAMO run too;
# uncertainty compiles its log-variances in; bad methods are refused.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

model=$examples/penguins.mtl
steps() { grep '"type":"step"' "$1" | sed 's/"seconds":[0-9.eE+-]*//g'; }

for method in static 'dwa(temperature = 1.5)' rlw uncertainty famo gradnorm pcgrad mgda 'mgda(rep)' \
  'cagrad(c = 0.4)' imtl aligned_mtl nash_mtl; do
  log="$work/${method//[^a-z_]/}.jsonl" # mgda(rep) -> mgdarep
  "$mtlc" train "$model" --balance "$method" --epochs 3 --no-save --log "$log" -q ||
    fail "--balance '$method' failed"
  grep -qF "\"balance\":\"${method// /}" <(sed 's/ //g' "$log") ||
    fail "the log's start record does not name '$method'"
  "$log_check" value "$log" last.balance.weights.species >/dev/null ||
    fail "--balance '$method': no effective weights in the epoch record"
  "$log_check" at-least "$log" last.val.tasks.species.accuracy 0.5 >/dev/null ||
    fail "--balance '$method' did not learn species (accuracy <= 0.5)"
done
# Gradient methods log the gradients' statistics; static does with --grad-stats.
grep -q '"cosines"' "$work/pcgrad.jsonl" || fail "pcgrad logged no gradient cosines"
grep -q '"grad_norms"' "$work/static.jsonl" && fail "static logged gradient norms unasked"
# mgda(rep) takes one gradient step weighted by α: no split step, so no gradient statistics.
grep -q '"grad_norms"' "$work/mgdarep.jsonl" && fail "mgda(rep) split the task gradients unasked"
"$mtlc" train "$model" --epochs 1 --grad-stats --no-save --log "$work/stats.jsonl" -q ||
  fail "--grad-stats failed"
grep -q '"species,sex"' "$work/stats.jsonl" || fail "--grad-stats logged no task pair"

# A gradient method on a frozen trunk has nothing to combine: a warning says
# so; when the trunk thaws, none.
"$mtlc" train "$model" --balance pcgrad --freeze trunk --epochs 1 --no-save >/dev/null 2>"$work/frozen.txt" ||
  fail "pcgrad with a frozen trunk failed: $(cat "$work/frozen.txt")"
grep -qF "warning: balance 'pcgrad' combines the tasks' gradients on the shared parameters, and every one of them is frozen (or at lr_scale 0) for the whole run: it trains as static does" \
  "$work/frozen.txt" || fail "no warning for pcgrad on a frozen trunk: $(cat "$work/frozen.txt")"
"$mtlc" train "$model" --balance pcgrad --freeze trunk --unfreeze-after 1 --epochs 2 --no-save \
  >/dev/null 2>"$work/thawed.txt" || fail "pcgrad with a thawing trunk failed"
grep -q "warning" "$work/thawed.txt" && fail "a warning for pcgrad on a trunk that thaws: $(cat "$work/thawed.txt")"
"$mtlc" train "$model" --balance gradnorm --freeze trunk --epochs 1 --no-save >/dev/null 2>"$work/gnfrozen.txt" ||
  fail "gradnorm with a frozen trunk failed"
grep -qF "warning: balance 'gradnorm(alpha = 1.5)' follows the tasks' gradient norms on the shared parameters, and every one of them is frozen (or at lr_scale 0) for the whole run: the weights stay 1, as static's" \
  "$work/gnfrozen.txt" || fail "no warning for gradnorm on a frozen trunk: $(cat "$work/gnfrozen.txt")"

# One thread or two: the same numbers.
for threads in 1 2; do
  "$mtlc" train "$model" --balance pcgrad --epochs 2 --threads $threads --no-save \
    --log "$work/t$threads.jsonl" --log-every 1 -q || fail "pcgrad on $threads threads failed"
done
[[ "$(steps "$work/t1.jsonl")" == "$(steps "$work/t2.jsonl")" ]] ||
  fail "pcgrad's steps differ between 1 and 2 threads"
# --log-every: each step record has that step's weights and gradient cosines.
grep '"type":"step"' "$work/t1.jsonl" | grep '"balance":{"weights":{"species":' |
  grep -c '"cosines":{"species,sex":' >/dev/null ||
  fail "pcgrad's step records have no balance weights and cosines"

# A FAMO run resumed after epoch 2 (its logits and their Adam moments are in the checkpoint).
"$mtlc" train "$model" --balance famo --epochs 3 --run-dir "$work/famo_full" -q ||
  fail "the uninterrupted FAMO run failed"
"$mtlc" train "$model" --balance famo --epochs 2 --run-dir "$work/famo_part" -q ||
  fail "the first part of the FAMO run failed"
"$mtlc" train "$model" --balance famo --epochs 3 --resume "$work/famo_part/last.safetensors" \
  --run-dir "$work/famo_part" -q || fail "the FAMO resume failed"
cmp -s "$work/famo_full/last.safetensors" "$work/famo_part/last.safetensors" ||
  fail "the resumed FAMO run's final checkpoint differs from the uninterrupted run's"

# Uncertainty's log-variances are compiled into the loss: mtlc train compiles
# them in for --balance uncertainty, and a program built without them says
# to rebuild.
"$mtlc" train "$model" --balance uncertainty --epochs 1 --run-dir "$work/uw" -q ||
  fail "--balance uncertainty failed"
grep -q "uncertainty.species.log_var" "$work/uw/last.safetensors" ||
  fail "the checkpoint has no uncertainty.species.log_var"
"$mtlc" build -O 0 "$model" -o "$work/penguins" 2>/dev/null || fail "build penguins failed"
out=$("$work/penguins" train --balance uncertainty --epochs 1 --no-save -q 2>&1)
[[ $? -eq 1 ]] || fail "a program without log-variances took --balance uncertainty"
grep -q "was compiled without them" <<<"$out" ||
  fail "no clear error for --balance uncertainty on a program built without it: $out"
# Its checkpoint still evaluates and predicts there: the log-variances weigh
# the losses and play no part in predictions.
"$work/penguins" eval --checkpoint "$work/uw/last.safetensors" >"$work/uw_eval.txt" 2>&1 ||
  fail "eval of an uncertainty run's checkpoint failed: $(cat "$work/uw_eval.txt")"
"$work/penguins" predict --checkpoint "$work/uw/last.safetensors" \
  --input "$examples/data/penguins.csv" >"$work/uw_pred.csv" 2>"$work/uw_pred.txt" ||
  fail "predict from an uncertainty run's checkpoint failed: $(cat "$work/uw_pred.txt")"

# A DWA run resumed after epoch 3 (its weights then depend on epochs 1 and 2).
"$mtlc" train "$model" --balance dwa --epochs 5 --run-dir "$work/full" --log "$work/full.jsonl" \
  --log-every 1 -q || fail "the uninterrupted DWA run failed"
"$mtlc" train "$model" --balance dwa --epochs 3 --run-dir "$work/part" --log "$work/part.jsonl" \
  --log-every 1 -q || fail "the first half of the DWA run failed"
"$mtlc" train "$model" --balance dwa --epochs 5 --resume "$work/part/last.safetensors" \
  --run-dir "$work/part" --log "$work/part.jsonl" --log-every 1 -q || fail "the DWA resume failed"
cmp -s "$work/full/last.safetensors" "$work/part/last.safetensors" ||
  fail "the resumed DWA run's final checkpoint differs from the uninterrupted run's"
[[ "$(steps "$work/full.jsonl")" == "$(steps "$work/part.jsonl")" ]] ||
  fail "the per-step losses of the resumed DWA run differ"
out=$("$mtlc" train "$model" --balance pcgrad --epochs 5 --resume "$work/part/last.safetensors" \
  --no-save -q 2>&1)
[[ $? -eq 1 ]] || fail "resuming with another balancing method did not exit 1"
grep -q "balance: checkpoint 'dwa(temperature = 2)', now 'pcgrad'" <<<"$out" ||
  fail "no clear error for another balancing method on resume: $out"
# From uncertainty, whose log-variances the other model lacks: the method is named, not them.
out=$("$mtlc" train "$model" --epochs 2 --resume "$work/uw/last.safetensors" --no-save -q 2>&1)
grep -q "balance: checkpoint 'uncertainty', now 'static'" <<<"$out" ||
  fail "no clear error for resuming an uncertainty run with static: $out"

# Bad methods, and a gradient method on a model whose tasks share nothing.
out=$("$mtlc" train "$model" --balance pcgrd --epochs 1 --no-save -q 2>&1)
[[ $? -eq 1 ]] || fail "an unknown method did not exit 1"
grep -q "unknown balance method 'pcgrd'; use one of static, dwa" <<<"$out" ||
  fail "no clear error for an unknown method: $out"
out=$("$mtlc" train "$model" --balance 'cagrad(alpha = 1)' --epochs 1 --no-save -q 2>&1)
grep -q "balance method 'cagrad' has no argument 'alpha'; its argument is 'c'" <<<"$out" ||
  fail "no clear error for a wrong argument: $out"
# An empty value is refused, not read as "not given" (the model's method).
for flag in --balance --schedule --sampling --log --model --target-cpu; do
  out=$("$mtlc" train "$model" "$flag" '' --epochs 1 --no-save -q 2>&1)
  [[ $? -eq 2 && $out == "$flag: an empty value; give one, or leave the option out"* ]] ||
    fail "$flag '' was not refused: $out"
done
cat >"$work/one.mtl" <<'MTL'
model one {
  input x : f32[4]
  data train = synthetic(rows = 40) {}
  task y : regress { head = x -> dense(8) -> relu -> dense(1) }
}
MTL
out=$("$mtlc" train "$work/one.mtl" --balance mgda --epochs 1 --no-save -q 2>&1)
[[ $? -eq 1 ]] || fail "mgda on a one-task model did not exit 1"
grep -q "combines the tasks' gradients on their shared parameters, and model 'one' has one task" \
  <<<"$out" || fail "no clear error for mgda on one task: $out"

# A task of two target values whose first is missing on half the rows: those
# rows count half (the loss is the mean of the values present), and pcgrad
# combines the task's gradient, which it had left out as unlabelled.
awk 'BEGIN { print "x0,x1,r0,r1,a"; for (i = 0; i < 8; i++)
  printf "%s,%s,%s,%s,%s\n", i / 8, (i * 3 % 8) / 8 - 0.5, i < 4 ? "" : i % 3, i % 5 - 2, i % 2 }' \
  >"$work/part.csv"
cat >"$work/part.mtl" <<MTL
model part {
  input x : f32[2]
  data train = csv("$work/part.csv") { x = columns(x0, x1)  r = columns(r0, r1)  a = column(a) }
  shared trunk = x -> dense(3) -> tanh
  task r : regress(2) { head = trunk -> dense(2) }
  task a : regress { head = trunk -> dense(1) }
  train { epochs = 1, batch = 4, shuffle = false }
}
MTL
"$mtlc" train "$work/part.mtl" --balance pcgrad --no-save --log "$work/part.jsonl" --log-every 1 -q ||
  fail "pcgrad on partly labelled rows failed"
grep '"step":1,' "$work/part.jsonl" | grep -q '"r":{"loss":[0-9.e-]*,"labelled":2}' ||
  fail "four rows with one of two values did not count as 2 labelled: $(head -2 "$work/part.jsonl")"
grep '"step":1,' "$work/part.jsonl" | grep -q '"weights":{"r":[1-9]' ||
  fail "pcgrad left out a task whose rows lack their first value: $(head -2 "$work/part.jsonl")"

finish
