#!/usr/bin/env bash
# session_state.sh: what a REPL session keeps, and what it refuses to write.
#
# Usage: session_state.sh MTLC REPO_ROOT
#
# On a copy of penguins (its model and data in a scratch folder):
# - :save and :plot --svg never replace a file the session reads (the model,
#   its data), nor a file that is not a checkpoint, and :save "" is refused;
# - :eval scores the rows the parameters' run held out, whatever :set seed says;
# - a run that fails at a step keeps the steps before it, as it says;
# - :load starts a model afresh (parameters and :set settings), :reload keeps both;
# - a learning rate that a float holds only as 0 or infinity is refused;
# - a checkpoint with optimizer state but no step starts the optimizer afresh;
# - a checkpoint with a negative second moment is refused.
source "$(dirname "$0")/setup.sh" 2 "$@"

failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}
mkdir -p "$scratch/data" "$scratch/lib"
cp examples/penguins.mtl "$scratch/"
cp examples/lib/blocks.mtl "$scratch/lib/"
cp examples/data/penguins.csv "$scratch/data/"
echo "notes" >"$scratch/notes.txt"
cd "$scratch" || exit 2
sums() { md5sum penguins.mtl lib/blocks.mtl data/penguins.csv notes.txt; }
before=$(sums)

session() { # the REPL's transcript of the lines given, one command each
  printf '%s\n' "$@" | timeout 300 "$mtlc" repl --target-cpu x86-64-v2 2>&1
}
expect() { # TRANSCRIPT TEXT WHAT
  [[ $1 == *"$2"* ]] || fail "$3: no '$2' in the transcript"$'\n'"$1"
}

out=$(session ':load penguins.mtl' ':save penguins.mtl' ':save lib/blocks.mtl' ':save data/penguins.csv' \
  ':plot --svg penguins.mtl' ':save notes.txt' ':save ""' ':train 1' ':save notes.txt' \
  ':plot --svg data/penguins.csv')
expect "$out" "error: :save penguins.mtl: it is penguins.mtl, which this command reads" ":save over the model"
expect "$out" "error: :save lib/blocks.mtl: it is lib/blocks.mtl, which this command reads" \
  ":save over an import"
expect "$out" "error: :save data/penguins.csv: it is $scratch/data/penguins.csv, which this command reads" \
  ":save over the data"
expect "$out" "error: :plot --svg penguins.mtl: it is penguins.mtl" ":plot --svg over the model"
expect "$out" "error: :save notes.txt: the file exists and is not a checkpoint" ":save over a text file"
expect "$out" "error: :save needs the name of the checkpoint file to write" ':save ""'
[[ $(sums) == "$before" ]] || fail "a refused write changed a file: $(sums)"

# The split of the run that trained the parameters, whatever the seed is now.
out=$(session ':load penguins.mtl' ':train 2' ':eval' ':set seed 5' ':eval')
evals=$(grep -A3 '^validation (' <<<"$out")
first=$(head -4 <<<"$evals")
second=$(tail -4 <<<"$evals")
[[ -n $first && $first == "$second" ]] || fail ":eval after :set seed scored other rows: $evals"

# A run that fails at its first step changes nothing: not the rows :eval
# scores, nor the parameters (the next run is no continuation).
out=$(session ':load penguins.mtl' ':train 2' ':eval' ':set seed 5' ':set lr 1e30' ':train 1' ':eval')
evals=$(grep -A3 '^validation (' <<<"$out")
[[ -n $evals && $(head -4 <<<"$evals") == "$(tail -4 <<<"$evals")" ]] ||
  fail ":eval after a run that failed at once scored other rows: $evals"
out=$(session ':load penguins.mtl' ':set lr 1e30' ':train 1' ':set lr 0.001' ':train 1')
expect "$out" "run 1: 1 epoch, steps 1-18"$'\n' "a run after one that took no step"

# A run that fails keeps its good steps, and is a run of its own: the next
# run continues after them.
out=$(session ':load penguins.mtl' ':set lr 100' ':set weight body_mass 1000' ':train 5' \
  ':set lr 0.001' ':set weight body_mass 0.5' ':train 1')
kept=$(sed -n 's/.*the parameters and optimizer state of step \([0-9]*\), the last good one, are kept.*/\1/p' <<<"$out")
[[ -n $kept ]] || fail "the run did not fail as the test needs: $out"
expect "$out" "run 1: 0 epochs, steps 1-$kept, then failed" "a run that failed"
expect "$out" "run 2: 1 epoch, steps $((kept + 1))-" "the run after a failed one"
expect "$out" "(continued)" "the run after a failed one"

# :load is a fresh start (the model's lr 0.001, from step 1); :reload keeps both.
out=$(session ':load penguins.mtl' ':set lr 0.5' ':train 1' ':load penguins.mtl' ':train 1' \
  ':set lr 0.5' ':reload' ':train 1' ':runs')
expect "$out" "run 2: 1 epoch, steps 1-" ":load of the same file"
grep -Eq '^ +2 +0\.001 ' <<<"$out" || fail ":load kept the :set lr: $out"
expect "$out" "(continued)" ":reload"
grep -Eq '^ +3 +0\.5 ' <<<"$out" || fail ":reload dropped the :set lr: $out"

# Learning rates a float cannot hold.
out=$(session ':load penguins.mtl' ':set lr 1e-300' ':set lr 1e39' ':set lr 1e-40')
for lr in 1e-300 1e+39 1e-40; do
  expect "$out" "error: the learning rate is a positive float from 1.2e-38 to 3.4e+38, got $lr" \
    ":set lr $lr"
done

# Optimizer state without its step: the moments would be corrected as at step 1.
session ':load penguins.mtl' ':train 1' ':save ck.safetensors' >/dev/null
python3 - ck.safetensors nostep.safetensors <<'EOF'
import json, struct, sys
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
del header['__metadata__']['step']
text = json.dumps(header, separators=(',', ':')).encode()
text += b' ' * (-len(text) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(text)) + text + raw[8 + n:])
EOF
out=$(session ':load penguins.mtl' ':load nostep.safetensors')
expect "$out" "; the optimizer starts afresh" "a checkpoint without its step"

# A second moment below 0, which no training writes, is refused, and the
# session keeps what it had: the next run continues after its steps.
python3 - ck.safetensors negative.safetensors <<'EOF'
import json, struct, sys
raw = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
name = sorted(k for k in header if k.endswith('.exp_avg_sq'))[0]
start = 8 + n + header[name]['data_offsets'][0]
raw[start:start + 4] = struct.pack('<f', -0.5)
open(sys.argv[2], 'wb').write(raw)
EOF
out=$(session ':load penguins.mtl' ':train 1' ':load negative.safetensors' ':train 1')
expect "$out" "error: negative.safetensors: negative: " "a negative second moment"
expect "$out" ".exp_avg_sq[0] is -0.5 (Adam's second moment, an average of squares, is never below 0)" \
  "a negative second moment"
expect "$out" "run 2: 1 epoch, steps 19-" "the run after a refused checkpoint"
exit $failed
