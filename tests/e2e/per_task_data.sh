#!/usr/bin/env bash
# per_task_data.sh: a model whose two tasks have their own data sets and
# inputs (the digits split in two files: one labels the digit, the other its
# parity, from a differently named input) sharing a module. Every step trains
# the task of one data set; each task is scored on its own validation rows;
# a resumed run ends byte-identical; predict reads one data set's layout;
# the sampling can be set from the command line.
source "$(dirname "$0")/common.sh"

zcat "$examples/data/digits.csv.gz" | head -n 900 >"$work/a.csv"
zcat "$examples/data/digits.csv.gz" | tail -n +901 |
  awk -F, 'BEGIN { OFS = "," } { $65 = $65 % 2; print }' >"$work/b.csv"
cat >"$work/m.mtl" <<'MTL'
model two_sets {
  input p : f32[64]
  input q : f32[64]
  data a = csv("a.csv", header = false) {
    p     = columns(0..64) scale(1 / 16)
    digit = column(64)
  }
  data b = csv("b.csv", header = false) {
    q   = columns(0..64) scale(1 / 16)
    odd = column(64)
  }
  shared core = dense(32) -> relu
  task digit : classify(10) { head = p -> dense(32) -> relu -> core -> dense(10) }
  task odd : binary { head = q -> dense(32) -> relu -> core -> dense(1) }
  optimizer adam(lr = 0.003)
  train { data = [a, b], sampling = round_robin, validate = 0.2, epochs = 4, batch = 32, seed = 2 }
}
MTL
steps() { grep '"type":"step"' "$1" | sed 's/"seconds":[0-9.eE+-]*//g'; }

"$mtlc" train "$work/m.mtl" --run-dir "$work/full" --log "$work/full.jsonl" --log-every 1 \
  >"$work/full.txt" 2>&1 || fail "training failed: $(cat "$work/full.txt")"
cat "$work/full.txt"
# 720 and 717 training rows in batches of 32: 23 + 23 steps an epoch, the
# data sets in turn, each step labelling one task only.
[[ $(steps "$work/full.jsonl" | wc -l) == 184 ]] || fail "expected 184 step records"
both=$(steps "$work/full.jsonl" | grep -v '"labelled":0' | wc -l)
[[ $both == 0 ]] || fail "$both steps labelled both tasks"
digit=$(steps "$work/full.jsonl" | grep -c '"odd":{"loss":0.0,"labelled":0}')
[[ $digit == 92 ]] || fail "round_robin gave the digit task $digit of 184 steps"
# Validation: 180 rows of a for digit, 180 of b for odd (ceil(0.2 * 897)).
grep -c "^validation, epoch .* (360 rows" "$work/full.txt" >/dev/null || fail "not 360 validation rows"
acc=$(grep "^  digit  *loss" "$work/full.txt" | awk '{ print $NF }')
awk -v a="$acc" 'BEGIN { exit !(a > 0.85) }' || fail "digit accuracy $acc on its own validation rows"

# Stopped after 2 epochs and resumed: the same steps and the same last checkpoint.
"$mtlc" train "$work/m.mtl" --epochs 2 --run-dir "$work/part" --log "$work/part.jsonl" \
  --log-every 1 -q || fail "the first half failed"
"$mtlc" train "$work/m.mtl" --resume "$work/part/last.safetensors" --run-dir "$work/part" \
  --log "$work/part.jsonl" --log-every 1 -q || fail "the resumed run failed"
cmp -s "$work/full/last.safetensors" "$work/part/last.safetensors" ||
  fail "the resumed run's final checkpoint differs from the uninterrupted run's"
[[ "$(steps "$work/full.jsonl")" == "$(steps "$work/part.jsonl")" ]] ||
  fail "the per-step losses of the resumed run differ"
"$mtlc" train "$work/m.mtl" --resume "$work/part/last.safetensors" --sampling proportional \
  --no-save -q 2>"$work/s.txt" && fail "resuming with another sampling was accepted"
grep -c "sampling: checkpoint 'round_robin', now 'proportional'" "$work/s.txt" >/dev/null ||
  fail "no message for a resume that changes the sampling: $(cat "$work/s.txt")"

# The sampling from the command line, and a bad one.
"$mtlc" train "$work/m.mtl" --epochs 1 --sampling 'temperature(2)' --no-save -q ||
  fail "--sampling 'temperature(2)' failed"
"$mtlc" train "$work/m.mtl" --epochs 1 --sampling uniform --no-save -q 2>"$work/bad.txt" &&
  fail "--sampling uniform was accepted"
grep -c "unknown sampling 'uniform'; use round_robin, proportional or temperature(T)" \
  "$work/bad.txt" >/dev/null || fail "no message for a bad sampling: $(cat "$work/bad.txt")"

# A program: eval scores each task on its own rows; predict reads the first
# data set's layout, or the one --like names, and predicts its tasks.
"$mtlc" build "$work/m.mtl" -o "$work/prog" >/dev/null 2>&1 || { fail "build failed"; finish; }
ck=$work/full/last.safetensors
"$work/prog" eval --checkpoint "$ck" >"$work/eval.txt" 2>&1 || fail "eval failed: $(cat "$work/eval.txt")"
cat "$work/eval.txt"
grep -c "^validation (360 rows" "$work/eval.txt" >/dev/null || fail "eval did not score 360 validation rows"
head -n 5 "$work/a.csv" >"$work/new_a.csv"
head -n 5 "$work/b.csv" >"$work/new_b.csv"
"$work/prog" predict --checkpoint "$ck" --input "$work/new_a.csv" >"$work/pa.csv" || fail "predict failed"
[[ $(head -n 1 "$work/pa.csv") == row,digit.class* ]] || fail "predict header: $(head -n 1 "$work/pa.csv")"
grep -c "odd" "$work/pa.csv" >/dev/null && fail "predict on a's layout predicted odd"
"$work/prog" predict --checkpoint "$ck" --input "$work/new_b.csv" --like b >"$work/pb.csv" ||
  fail "predict --like b failed"
[[ $(head -n 1 "$work/pb.csv") == "row,odd.class,odd.prob" ]] ||
  fail "predict --like b header: $(head -n 1 "$work/pb.csv")"
[[ $(wc -l <"$work/pb.csv") == 6 ]] || fail "predict --like b wrote $(wc -l <"$work/pb.csv") lines"
"$work/prog" predict --checkpoint "$ck" --input "$work/new_b.csv" --like c 2>"$work/like.txt" &&
  fail "predict --like c was accepted"
grep -c "\-\-like c: the model has no data set named 'c' (it has: a, b)" "$work/like.txt" >/dev/null ||
  fail "no message for an unknown --like: $(cat "$work/like.txt")"

# A gradient method on batches that label one task: the shared module trains.
"$mtlc" train "$work/m.mtl" --balance mgda --no-save --log "$work/mgda.jsonl" -q ||
  fail "training with mgda failed"
# A method chosen on the command line is judged against the data as the
# model's own is by check: gradnorm's weights never move here, pcgrad trains
# as static; a loss-based method is fine.
"$mtlc" train "$work/m.mtl" --balance gradnorm --epochs 1 --no-save >/dev/null 2>"$work/gn.txt" ||
  fail "training with gradnorm failed: $(cat "$work/gn.txt")"
grep -c "^warning: balance 'gradnorm(alpha = 1.5)' moves its weights on batches that label every task, and no training data set labels all 2" \
  "$work/gn.txt" >/dev/null || fail "no warning for gradnorm on per-task data: $(cat "$work/gn.txt")"
"$mtlc" train "$work/m.mtl" --balance pcgrad --epochs 1 --no-save >/dev/null 2>"$work/pc.txt" ||
  fail "training with pcgrad failed: $(cat "$work/pc.txt")"
grep -c "^warning: balance 'pcgrad' combines the gradients of the tasks a batch labels, and each training data set labels one task" \
  "$work/pc.txt" >/dev/null || fail "no warning for pcgrad on per-task data: $(cat "$work/pc.txt")"
"$mtlc" train "$work/m.mtl" --balance dwa --epochs 1 --no-save >/dev/null 2>"$work/dwa.txt" ||
  fail "training with dwa failed: $(cat "$work/dwa.txt")"
[[ ! -s "$work/dwa.txt" ]] || fail "dwa on per-task data printed: $(cat "$work/dwa.txt")"

# Validation on several data sets: each eval batch holds one data set's rows,
# so the total validation loss does not depend on their order in the list.
awk -v n=30 -v s=1 'BEGIN { srand(s); print "x0,x1,x2,x3,a,b"
  for (i = 0; i < n; i++) { x = rand() - 0.5; printf "%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", x, rand(), rand(), rand(), 2 * x, -x } }' \
  >"$work/ab.csv"
head -9 "$work/ab.csv" | cut -d, -f1-4,6 >"$work/bv.csv"
{ head -1 "$work/ab.csv" | cut -d, -f1-5; sed -n '10,15p' "$work/ab.csv" | cut -d, -f1-5; } >"$work/av.csv"
for order in "av, bv" "bv, av"; do
  cat >"$work/order.mtl" <<MTL
model order {
  input x : f32[4]
  data train = csv("$work/ab.csv") { x = columns(x0, x1, x2, x3)  a = column(a)  b = column(b) }
  data av = csv("$work/av.csv") { x = columns(x0, x1, x2, x3)  a = column(a) }
  data bv = csv("$work/bv.csv") { x = columns(x0, x1, x2, x3)  b = column(b) }
  shared trunk = x -> dense(8) -> relu
  task a : regress { head = trunk -> dense(1) }
  task b : regress { head = trunk -> dense(1) }
  train { epochs = 1, batch = 10, seed = 1, validate = [$order] }
}
MTL
  "$mtlc" train "$work/order.mtl" --no-save -q --log "$work/order.jsonl" || fail "validate = [$order] failed"
  "$log_check" value "$work/order.jsonl" last.val.loss >"$work/order-${order%%,*}.txt"
done
cmp -s "$work/order-av.txt" "$work/order-bv.txt" ||
  fail "the validation loss depends on the order of validate: $(cat "$work/order-av.txt" "$work/order-bv.txt")"
finish
