#!/usr/bin/env bash
# disk_cache.sh: the on-disk cache of compiled functions (README, "Compile time").
# A second run of an unchanged model compiles nothing, generates no code (the
# model's index is found) and trains to the same bytes; a truncated and a
# corrupted entry are recompiled and replaced; a damaged index is regenerated;
# an edited model, an edited import or a touched data file do not use the
# old index, and an edited model compiles only what changed; --no-cache
# neither reads nor writes; two runs filling an empty cache at once both succeed.
#
# Usage: disk_cache.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"

export MTLC_CACHE_DIR=$work/cache

# train TAG ARGS...: trains penguins for 2 epochs into $work/TAG, -v output in $work/TAG.err.
train() {
  local tag=$1
  shift
  if ! "$mtlc" -v train "$examples/penguins.mtl" -q --epochs 2 --run-dir "$work/$tag" "$@" \
    >"$work/$tag.out" 2>"$work/$tag.err"; then
    fail "run $tag failed:"
    cat "$work/$tag.err" >&2
    return 1
  fi
}

# counts TAG: "COMPILED LOADED" from the -v line of run TAG.
counts() {
  sed -nE 's/^mtlc: [0-9]+ functions at -O2: ([0-9]+) compiled, ([0-9]+) from the disk cache.*/\1 \2/p' \
    "$work/$1.err"
}

# expect_counts TAG COMPILED LOADED
expect_counts() {
  local got
  got=$(counts "$1")
  [[ $got == "$2 $3" ]] || fail "run $1: expected '$2 compiled, $3 from the disk cache', got '$got'"
}

# same_params A B: the runs' final checkpoints are byte-identical.
same_params() {
  cmp -s "$work/$1/last.safetensors" "$work/$2/last.safetensors" ||
    fail "runs $1 and $2 ended with different parameters"
}

entries() { find "$MTLC_CACHE_DIR" -name '*.o' | sort; }
indexes() { find "$MTLC_CACHE_DIR" -name '*.index' | sort; }

# indexed TAG [no]: run TAG used the model's index (with "no": did not).
indexed() {
  local used=yes
  grep -q "the model's index was on disk" "$work/$1.err" || used=no
  [[ $used == "${2:-yes}" ]] || fail "run $1: expected the model's index used: ${2:-yes}, got $used"
}

train cold || finish
read -r total _ <<<"$(counts cold)"
[[ ${total:-0} -gt 10 ]] || fail "the cold run compiled only '${total:-}' functions"
expect_counts cold "$total" 0
[[ $(entries | wc -l) -eq $total ]] || fail "expected $total cache entries, found $(entries | wc -l)"
[[ $(indexes | wc -l) -eq 1 ]] || fail "expected one model index, found $(indexes | wc -l)"
indexed cold no

train warm
expect_counts warm 0 "$total"
indexed warm
grep -q "^mtlc: codegen" "$work/warm.err" && fail "run warm generated code"
same_params cold warm

# A damaged index: the model is generated again, its functions come from
# disk, and the index is written again.
printf '\xff' | dd of="$(indexes)" bs=1 seek=60 conv=notrunc status=none
train reindexed
expect_counts reindexed 0 "$total"
indexed reindexed no
same_params cold reindexed
train indexed
indexed indexed

# A truncated entry and one with a flipped byte: each is a miss, recompiled
# and written again, and the run is unchanged.
mapfile -t files < <(entries)
truncate -s 100 "${files[0]}"
printf '\xff' | dd of="${files[1]}" bs=1 seek=200 conv=notrunc status=none
train damaged
expect_counts damaged 2 $((total - 2))
same_params cold damaged
train repaired
expect_counts repaired 0 "$total"

# An edited model (a species head one layer deeper): the functions that
# changed are compiled, the rest come from disk.
mkdir -p "$work/edited/data"
cp -r "$examples/lib" "$work/edited/"
cp "$examples/data/penguins.csv" "$work/edited/data/"
sleep 2 # a model whose data changed in the last 2 s has no index (driver/ModelKey.h)
sed 's/head    = trunk -> dense(3)/head    = trunk -> mlp(8) -> dense(3)/' "$examples/penguins.mtl" \
  >"$work/edited/penguins.mtl"
cmp -s "$examples/penguins.mtl" "$work/edited/penguins.mtl" && fail "the edit did not change the model"
if "$mtlc" -v train "$work/edited/penguins.mtl" -q --epochs 1 --no-save \
  >"$work/edited.out" 2>"$work/edited.err"; then
  read -r compiled loaded <<<"$(counts edited)"
  [[ ${compiled:-0} -gt 0 && ${loaded:-0} -gt 0 ]] ||
    fail "edited model: expected some functions compiled and some from disk, got '${compiled:-} ${loaded:-}'"
else
  fail "the edited model did not train:"
  cat "$work/edited.err" >&2
fi

# What the model's code depends on besides its text: an edited import and a
# data file written again (the checker reads its header) each miss the
# index, and every function comes from disk.
edited() {
  "$mtlc" -v train "$work/edited/penguins.mtl" -q --epochs 1 --no-save >"$work/$1.out" 2>"$work/$1.err" ||
    fail "run $1 of the edited model failed"
}
edited edited2
indexed edited2
echo "// an edit" >>"$work/edited/lib/blocks.mtl"
edited import
indexed import no
expect_counts import 0 "$(counts edited2 | cut -d' ' -f2)"
edited import2
indexed import2
touch -d '2001-01-01' "$work/edited/data/penguins.csv" # its mtime in the past, its ctime now
edited data # changed in the last 2 s: no index looked up or stored
indexed data no
expect_counts data 0 "$(counts edited2 | cut -d' ' -f2)"
sleep 2
edited data2 # the data's new times: another key
indexed data2 no
edited data3
indexed data3

# --no-cache: nothing read, nothing written.
before=$(entries | wc -l)
train off --no-cache
expect_counts off "$total" 0
grep -q 'from the disk cache (off)' "$work/off.err" || fail "--no-cache: -v does not say the cache is off"
[[ $(entries | wc -l) -eq $before ]] || fail "--no-cache wrote cache entries"
same_params cold off

# Two runs filling an empty cache at the same time.
export MTLC_CACHE_DIR=$work/cache2
train p1 &
train p2 &
wait
same_params cold p1
same_params cold p2
[[ $(find "$MTLC_CACHE_DIR" -name '*.o' | wc -l) -eq $total ]] ||
  fail "concurrent runs left $(find "$MTLC_CACHE_DIR" -name '*.o' | wc -l) entries, expected $total"
[[ -z $(find "$MTLC_CACHE_DIR" -name '*.tmp.*') ]] || fail "concurrent runs left temporary files"
finish
