#!/usr/bin/env bash
# sequence_gru.sh: examples/data/make_sequence.sh writes 24 steps of two
# features and three labels a row, the same file for the same arguments and
# another for another seed, with the labels its header describes (the
# pattern recomputed here from the b columns; rising in about half the rows,
# and mostly where the walk ends above where it began); ROWS or SEED that are
# not whole numbers are refused. The gru model of examples/sequence_gru.mtl
# trains on the default file: its loss falls, and on the held-out test rows
# it finds the ordered pattern (accuracy at least 0.9, where answering the
# majority class scores 0.54), the drift's sign (at least 0.8) and the level
# (r2 at least 0.95).
source "$(dirname "$0")/common.sh"
gen=$examples/data/make_sequence.sh

sh "$gen" 3000 5 >"$work/s.csv" || { fail "make_sequence.sh 3000 5 failed"; finish; }
sh "$gen" 3000 5 | cmp -s - "$work/s.csv" || fail "two runs of make_sequence.sh 3000 5 differ"
sh "$gen" 3000 6 | cmp -s - "$work/s.csv" && fail "seeds 5 and 6 wrote the same file"
[[ $(wc -l <"$work/s.csv") == 3001 ]] || fail "make_sequence.sh wrote $(wc -l <"$work/s.csv") lines"
[[ $(head -n 1 "$work/s.csv" | tr ',' '\n' | sed -n '1p;2p;47p;48p;49p;50p;51p' | paste -sd' ') == \
  "a0 b0 a23 b23 level rising pattern" ]] || fail "unexpected header: $(head -c 80 "$work/s.csv")..."
awk -F, 'NF != 51 { bad = 1 } END { exit bad }' "$work/s.csv" || fail "a row has not 51 fields"
# pattern: some b_t > 1 followed at once by b_(t+1) < -1 (b_t is field 2t + 2).
awk -F, 'NR > 1 { p = 0; for (i = 4; i <= 48; i += 2) if ($(i - 2) > 1 && $i < -1) p = 1
  if (p != $51) bad++ } END { exit bad > 0 }' "$work/s.csv" ||
  fail "a pattern label disagrees with its row's b columns"
awk -F, 'NR > 1 { n++; up += $50; agree += ($47 > $1) == $50 }
  END { exit !(up / n > 0.45 && up / n < 0.55 && agree / n > 0.7) }' "$work/s.csv" ||
  fail "rising is not set in about half the rows, mostly where a23 > a0"
for args in "1e3" "10 x" "-5"; do
  # shellcheck disable=SC2086 # the arguments are split on purpose
  sh "$gen" $args >"$work/bad.csv" 2>"$work/err.txt" && fail "make_sequence.sh $args was accepted"
  [[ -s $work/bad.csv ]] && fail "make_sequence.sh $args wrote rows"
  grep -q 'ROWS and SEED are whole numbers' "$work/err.txt" ||
    fail "make_sequence.sh $args: $(cat "$work/err.txt")"
done

sh "$gen" >"$work/sequence.csv"
"$mtlc" train "$examples/sequence_gru.mtl" --model gru --no-save --data "train=$work/sequence.csv" \
  --log "$work/gru.jsonl" >"$work/gru.txt" 2>&1 || { fail "training failed: $(cat "$work/gru.txt")"; finish; }
"$log_check" falls "$work/gru.jsonl" || fail "the training loss did not fall"
"$log_check" at-least "$work/gru.jsonl" end.test.tasks.pattern.accuracy 0.9 || fail "pattern accuracy"
"$log_check" at-least "$work/gru.jsonl" end.test.tasks.rising.accuracy 0.8 || fail "rising accuracy"
"$log_check" at-least "$work/gru.jsonl" end.test.tasks.level.r2 0.95 || fail "level r2"
finish
