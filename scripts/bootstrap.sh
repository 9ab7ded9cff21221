#!/usr/bin/env bash
# bootstrap.sh: the README's first command: install what is missing, build, and
# run the main job on a bundled example (check everything, then train penguins).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mtl_install_missing
mtl_build
cd "$MTL_ROOT"
MTLC="$MTL_BUILD/compiler/mtlc"
echo "==> mtlc check examples/*.mtl"
"$MTLC" check examples/*.mtl
echo "==> mtlc shapes examples/penguins.mtl"
"$MTLC" shapes examples/penguins.mtl
echo "==> mtlc train examples/penguins.mtl"
"$MTLC" train examples/penguins.mtl
