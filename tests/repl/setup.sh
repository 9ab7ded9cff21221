# setup.sh: how the scripts of tests/repl begin; they source it with their own arguments.
#
# `source setup.sh N "$@"` checks that the script got N arguments, MTLC and
# REPO_ROOT first (else it prints the script's `# Usage:` line and exits 2),
# sets `mtlc` to MTLC's absolute path, enters REPO_ROOT, and makes `scratch`,
# an empty folder removed at exit, which is also HOME (so no one's
# ~/.mtlc_history is read or written). Colour is off.
set -u
if [[ $(($# - 1)) -ne $1 ]]; then
  grep -m1 '^# Usage:' "$0" | sed 's/^# U/u/' >&2
  exit 2
fi
mtlc=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
cd "$3" || exit 2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export NO_COLOR=1 HOME=$scratch
