#!/usr/bin/env bash
# fmt_in_place.sh: `mtlc fmt FILE` rewrites the file a name stands for, as it
# was: through a symbolic link (the link stays a link), keeping the file's
# permission bits, and keeping hard links one file; a file that does not parse
# is left byte for byte.
source "$(dirname "$0")/common.sh"

one_line='model m { input x : f32[2] task y : regress { head = x -> dense(1) } }'
printf '%s\n' "$one_line" >real.mtl
"$mtlc" fmt --stdout real.mtl >expected.mtl || fail "fmt --stdout failed"
[[ $(wc -l <expected.mtl) -gt 1 ]] || fail "the formatted model is still one line"

ln -s real.mtl link.mtl
"$mtlc" fmt link.mtl || fail "fmt through a symbolic link failed"
[[ -L link.mtl ]] || fail "fmt replaced the symbolic link with a file"
cmp -s real.mtl expected.mtl || fail "fmt through a link did not format the file it points to"

printf '%s\n' "$one_line" >private.mtl
chmod 600 private.mtl
"$mtlc" fmt private.mtl || fail "fmt of a private file failed"
[[ $(stat -c %a private.mtl) == 600 ]] || fail "fmt changed mode 600 to $(stat -c %a private.mtl)"
cmp -s private.mtl expected.mtl || fail "fmt did not format the private file"

printf '%s\n' "$one_line" >first.mtl
ln first.mtl second.mtl
"$mtlc" fmt first.mtl || fail "fmt of a file with two names failed"
[[ $(stat -c %i first.mtl) == "$(stat -c %i second.mtl)" ]] || fail "fmt split a hard link"
cmp -s second.mtl expected.mtl || fail "the other name of the file does not show the formatted text"

printf 'model m { input x : f32[2]\n' >broken.mtl
cp broken.mtl broken.orig
"$mtlc" fmt broken.mtl >fmt.txt 2>&1 && fail "fmt of a file that does not parse succeeded"
cmp -s broken.mtl broken.orig || fail "fmt changed a file it could not parse"
[[ ! -e broken.mtl.mtlc-fmt.tmp && ! -e real.mtl.mtlc-fmt.tmp ]] || fail "fmt left a temporary file"
finish
