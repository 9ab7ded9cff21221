#!/usr/bin/env bash
# mmoe_synthetic.sh: examples/data/make_mmoe.sh writes the MMoE paper's data
# (a header, 100 inputs and two labels a row), the same file for the same
# arguments, and files for two RHO that differ only in the second label
# (the inputs and the first task depend on the seed alone); whose labels
# correlate more for a larger RHO; an RHO outside [-1, 1], or not a number,
# and ROWS or SEED not whole numbers are refused. Each
# model of examples/mmoe_synthetic.mtl trains on such a file and its losses
# fall; the gated ones log their gates.
source "$(dirname "$0")/common.sh"
gen=$examples/data/make_mmoe.sh

for rho in 0.0 0.9; do
  sh "$gen" $rho 600 5 >"$work/m$rho.csv" || { fail "make_mmoe.sh $rho failed"; finish; }
done
sh "$gen" 0.9 600 5 | cmp -s - "$work/m0.9.csv" || fail "two runs of make_mmoe.sh 0.9 600 5 differ"
[[ $(wc -l <"$work/m0.0.csv") == 601 ]] || fail "make_mmoe.sh wrote $(wc -l <"$work/m0.0.csv") lines"
[[ $(head -n 1 "$work/m0.0.csv" | tr ',' '\n' | sed -n '1p;100p;101p;102p' | paste -sd' ') == "x0 x99 y1 y2" ]] ||
  fail "unexpected header: $(head -c 80 "$work/m0.0.csv")..."
awk -F, 'NF != 102 { bad = 1 } END { exit bad }' "$work/m0.0.csv" || fail "a row has not 102 fields"
cmp -s <(cut -d, -f1-101 "$work/m0.0.csv") <(cut -d, -f1-101 "$work/m0.9.csv") ||
  fail "files for two RHO differ outside y2"
cmp -s <(cut -d, -f102 "$work/m0.0.csv") <(cut -d, -f102 "$work/m0.9.csv") &&
  fail "files for RHO 0 and 0.9 have the same y2"
# Pearson's r of y1 and y2 over the rows.
corr() {
  awk -F, 'NR > 1 { a = $101; b = $102; n++; sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b }
    END { print (n * sab - sa * sb) / sqrt((n * saa - sa * sa) * (n * sbb - sb * sb)) }' "$1"
}
low=$(corr "$work/m0.0.csv") high=$(corr "$work/m0.9.csv")
awk -v l="$low" -v h="$high" 'BEGIN { exit !(l < 0.3 && h > 0.6) }' ||
  fail "label correlation $low at RHO 0 and $high at RHO 0.9: expected below 0.3 and above 0.6"
# Arguments that are not what they should be are refused, never read as 0.
for args in "1.5 10" "abc 10" "0.5x 10" "0.5 1e3" "0.5 10 x"; do
  # shellcheck disable=SC2086 # the arguments are split on purpose
  sh "$gen" $args >"$work/bad.csv" 2>"$work/err.txt" && fail "make_mmoe.sh $args was accepted"
  [[ -s $work/bad.csv ]] && fail "make_mmoe.sh $args wrote rows"
  grep -qE 'RHO must lie in \[-1, 1\]|ROWS and SEED are whole numbers' "$work/err.txt" ||
    fail "make_mmoe.sh $args: $(cat "$work/err.txt")"
done

for model in shared_bottom mmoe attention cgc cross_stitch ple; do
  "$mtlc" train "$examples/mmoe_synthetic.mtl" --model "$model" --epochs 3 --no-save \
    --data "train=$work/m0.9.csv" --log "$work/$model.jsonl" >"$work/$model.txt" 2>&1 ||
    { fail "training $model failed: $(cat "$work/$model.txt")"; continue; }
  "$log_check" falls "$work/$model.jsonl" || fail "$model: the training loss did not fall"
  if [[ $model == shared_bottom ]]; then
    grep -q '^gates' "$work/$model.txt" && fail "shared_bottom printed gates"
  else
    grep -qE '^  (y1\.(gate|attention\.head0)|(moe|level)\.0\.y1|ext\.0\.1\.gates\.y1) \(y1\) +[a-z0-9.]+(\[0\])? -?[0-9]+\.[0-9]{3}' \
      "$work/$model.txt" || fail "$model printed no gate line for y1"
  fi
done
finish
