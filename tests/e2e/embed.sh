#!/usr/bin/env bash
# embed.sh: the embedding example builds and agrees with the program.
# `mtlc build --lib` writes libwine.a and wine.h; examples/embed/wine_predict.c
# compiles against them with the system C compiler (as C99, warnings as
# errors) and links with the documented line; its predictions equal, bit for
# bit, those of `wine predict` on the same checkpoint and rows; and its own
# training loop (mtl_session_train_batch) writes a checkpoint the program loads.
#
# Usage: embed.sh MTLC LOG_CHECK CSV_SAME
source "$(dirname "$0")/common.sh"
csv_same=$1
cc=${CC:-cc}
data=$examples/data/wine_data.csv

"$mtlc" build --lib "$examples/wine.mtl" -o "$work/lib" 2>/dev/null || { fail "mtlc build --lib failed"; finish; }
[[ -f $work/lib/libwine.a && -f $work/lib/wine.h ]] || { fail "no libwine.a and wine.h"; finish; }
# The header is C: it compiles on its own as C99 and as C++.
echo '#include "wine.h"' >"$work/only_header.c"
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic -c "$work/only_header.c" -I "$work/lib" \
  -o "$work/only_header.o" || fail "wine.h does not compile as C99"
"$cc" -x c++ -Wall -Wextra -Werror -c "$work/only_header.c" -I "$work/lib" \
  -o "$work/only_header_cpp.o" || fail "wine.h does not compile as C++"
# A model file's path that holds "*/" (or a line break) does not end the header's comment.
mkdir -p "$work/star*/lib"
cp "$examples/lib/"*.mtl "$work/star*/lib/"
sed "s#\"data/#\"$examples/data/#" "$examples/wine.mtl" >"$work/star*/wine.mtl"
"$mtlc" build --lib "$work/star*/wine.mtl" -o "$work/starlib" 2>/dev/null || fail "build --lib of star*/wine.mtl"
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic -c "$work/only_header.c" -I "$work/starlib" \
  -o "$work/star_header.o" || fail "wine.h from a path with '*/' does not compile"

"$cc" -std=c99 -Wall -Wextra -Werror "$examples/embed/wine_predict.c" -I "$work/lib" \
  "$work/lib/libwine.a" -lstdc++ -lz -lm -lpthread -o "$work/wine_predict" ||
  { fail "the embedding example does not build"; finish; }

"$mtlc" build "$examples/wine.mtl" -o "$work/wine" 2>/dev/null || { fail "mtlc build failed"; finish; }
"$work/wine" train --epochs 10 -q --run-dir "$work/ck" || { fail "wine train failed"; finish; }
ck=$work/ck/last.safetensors

"$work/wine_predict" "$ck" "$data" >"$work/c.csv" || fail "wine_predict failed"
"$work/wine" predict --checkpoint "$ck" --input "$data" --output "$work/program.csv" 2>/dev/null ||
  fail "wine predict failed"
"$csv_same" "$work/program.csv" "$work/c.csv" ||
  fail "the C program's predictions differ from wine predict's"

# The C program's own training loop: 40 steps, saved, then loaded by the program.
"$work/wine_predict" "$ck" "$data" --fine-tune 40 "$work/tuned.safetensors" >"$work/tuned.csv" \
  2>"$work/tune.txt" || fail "fine-tuning from C failed: $(cat "$work/tune.txt")"
grep -q '^step 40: loss' "$work/tune.txt" || fail "no loss of step 40: $(cat "$work/tune.txt")"
"$work/wine" predict --checkpoint "$work/tuned.safetensors" --input "$data" \
  --output "$work/program-tuned.csv" 2>/dev/null || fail "wine cannot load the C program's checkpoint"
"$csv_same" "$work/program-tuned.csv" "$work/tuned.csv" ||
  fail "after fine-tuning, the C program's predictions differ from wine predict's"
if "$csv_same" "$work/program.csv" "$work/tuned.csv" >/dev/null 2>&1; then
  fail "fine-tuning changed no prediction"
fi
# Errors reach C callers as messages.
"$work/wine_predict" "$work/nope.safetensors" "$data" 2>"$work/err.txt" >/dev/null &&
  fail "a missing checkpoint did not fail"
grep -q 'error: .*nope\.safetensors' "$work/err.txt" || fail "no message for a missing checkpoint"
finish
