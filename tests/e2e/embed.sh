#!/usr/bin/env bash
# embed.sh: the embedding example builds and agrees with the program.
# `mtlc build --lib` writes libwine.a and wine.h; examples/embed/wine_predict.c
# compiles against them with the system C compiler (as C99, warnings as
# errors) and links with the documented line; its predictions equal, bit for
# bit, those of `wine predict` on the same checkpoint and rows; and its own
# training loop (mtl_session_train_batch) writes a checkpoint the program loads.
# A model that reads its data with scale(x) (digits_autoencoder, pixels /
# 16) takes raw rows from C as its program reads them: the same predictions,
# and a training step's loss in the model's units (tests/e2e/embed_scaled.c).
# A missing checkpoint, and another model's, are refused with messages.
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
# The caller's rounding mode changes no result (tests/e2e/embed_rounding.c).
"$cc" -std=c99 -Wall -Wextra -Werror "$here/embed_rounding.c" -I "$work/lib" "$work/lib/libwine.a" \
  -lstdc++ -lz -lm -lpthread -o "$work/embed_rounding" || fail "embed_rounding.c does not build"
"$work/embed_rounding" "$ck" || fail "the wine library's results depend on the caller's rounding mode"
# scale(x): the C library scales raw rows as the data reader does.
"$mtlc" build --lib "$examples/digits_autoencoder.mtl" -o "$work/aelib" 2>/dev/null &&
  "$mtlc" build "$examples/digits_autoencoder.mtl" -o "$work/ae" 2>/dev/null &&
  "$cc" -std=c99 -Wall -Wextra -Werror "$here/embed_scaled.c" -I "$work/aelib" \
    "$work/aelib/libdigits_autoencoder.a" -lstdc++ -lz -lm -lpthread -o "$work/embed_scaled" ||
  { fail "the scaled model's library, program or C test does not build"; finish; }
"$work/ae" train --epochs 2 -q --run-dir "$work/ckae" || { fail "digits_autoencoder train failed"; finish; }
gzip -dc "$examples/data/digits.csv.gz" | head -32 >"$work/rows32.csv"
"$work/embed_scaled" "$work/ckae/last.safetensors" "$work/rows32.csv" >"$work/ae_c.csv" \
  2>"$work/ae_loss.txt" || fail "embed_scaled failed: $(cat "$work/ae_loss.txt")"
"$work/ae" predict --checkpoint "$work/ckae/last.safetensors" --input "$work/rows32.csv" \
  --output "$work/ae_program.csv" 2>/dev/null || fail "digits_autoencoder predict failed"
"$csv_same" "$work/ae_program.csv" "$work/ae_c.csv" ||
  fail "with scale(1/16), the C program's predictions differ from the program's"
# The step's loss (before its update) from the program's predictions: the
# mean of ((prediction - pixel) / 16)^2 over the 32 x 64 values.
expected=$(awk -F, 'NR == FNR { for (c = 1; c <= 64; ++c) x[FNR, c] = $c; next }
  FNR > 1 { for (c = 2; c <= 65; ++c) { d = ($c - x[FNR - 1, c - 1]) / 16; s += d * d; n++ } }
  END { printf "%.9g", s / n }' "$work/rows32.csv" "$work/ae_program.csv")
got=$(sed -n 's/^loss //p' "$work/ae_loss.txt")
awk -v a="$got" -v b="$expected" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= 1e-4 * b) }' ||
  fail "train_batch on raw rows: loss $got, expected $expected (the targets' scale(1/16))"
# Errors reach C callers as messages.
"$work/wine_predict" "$work/nope.safetensors" "$data" 2>"$work/err.txt" >/dev/null &&
  fail "a missing checkpoint did not fail"
grep -q 'error: mtl_session_load: .*nope\.safetensors' "$work/err.txt" || fail "no message for a missing checkpoint"
# Another model's checkpoint: refused, naming the model and the differences.
"$work/wine_predict" "$work/ckae/last.safetensors" "$data" 2>"$work/err.txt" >/dev/null &&
  fail "the autoencoder's checkpoint loaded into wine"
grep -Eq "^error: mtl_session_load: .*/last\.safetensors: checkpoint does not fit model 'wine': missing in checkpoint: .*; the session is unchanged$" \
  "$work/err.txt" || fail "another model's checkpoint: $(cat "$work/err.txt")"
finish
