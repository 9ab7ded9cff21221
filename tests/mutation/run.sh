#!/usr/bin/env bash
# tests/mutation/run.sh: the mutation score of the test suite.
#
# Applies each mutation of tests/mutation/mutations.txt to its file, rebuilds
# the build folder incrementally, runs the tests the mutation names and says
# whether they caught it:
#   killed    the build succeeded and some test failed
#   survived  the build succeeded and every test passed
#   invalid   the mutant did not build (not counted in the score)
#   error     the entry is malformed, its `from` text does not occur exactly
#             once, or its label expression selects no test (not counted)
# The score is killed / (killed + survived). Every file is restored with
# `git checkout` after its mutation, also on an interrupt, and the build is
# brought back to the sources at the end. Not part of CI: each mutation costs
# an incremental build and a run of its tests. See tests/mutation/README.md.
#
# Usage: tests/mutation/run.sh [--build DIR] [--only ID[,ID...]] [--report FILE]
#                              [--list FILE] [--jobs N] [--check] [--no-baseline]
#   --build DIR    the configured build folder (default: build)
#   --only IDS     only these mutations; each ID may be a shell pattern
#                  ('runtime-*', '*-csv-*')
#   --report FILE  also write the result lines and the summary to FILE
#   --list FILE    the mutations (default: tests/mutation/mutations.txt)
#   --jobs N       ctest's -j (default: 2)
#   --check        only validate the entries (fields, `from` occurs once, the
#                  label expression matches a known label); builds nothing
#   --no-baseline  skip the run of the selected tests on the unmutated tree
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # bash 5.2: '&' in ${x/a/b} is literal

usage() {
  sed -n '/^# Usage:/,/^#   --no-baseline/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit 2
}

ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
CALLER=$PWD

build=$ROOT/build
only=""
report=""
list=$ROOT/tests/mutation/mutations.txt
jobs=2
check_only=0
baseline=1
while (($#)); do
  case $1 in
  --build) build=${2:?--build needs a folder}; shift 2 ;;
  --only) only=${2:?--only needs ids}; shift 2 ;;
  --report) report=${2:?--report needs a file}; shift 2 ;;
  --list) list=${2:?--list needs a file}; shift 2 ;;
  --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
  --check) check_only=1; shift ;;
  --no-baseline) baseline=0; shift ;;
  -h | --help) usage ;;
  *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --jobs needs a positive number" >&2; exit 2; }
# Paths given on the command line are relative to where the script was started.
for var in build report list; do
  if [[ -n ${!var} && ${!var} != /* ]]; then printf -v "$var" '%s/%s' "$CALLER" "${!var}"; fi
done
[[ -f $list ]] || { echo "run.sh: no mutation list '$list'" >&2; exit 2; }
cd "$ROOT" # the `file` of each mutation is relative to the repository root

# The labels the tests carry (tests/CMakeLists.txt and the folders it adds);
# --check matches each entry's expression against them without ctest.
KNOWN_LABELS=(unit-frontend unit-sema unit-ir unit-autodiff unit-lower unit-passes unit-runtime
  unit-codegen unit-backend diagnostics fuzz runtime e2e corpus repl examples format)

# ------------------------------------------------------------------ parsing
ids=() files=() froms=() tos=() breaks=() tests=() problems=()

add_entry() {
  # $1..$6: id file from to breaks tests; $7: a problem found while reading
  ids+=("$1") files+=("$2") froms+=("$3") tos+=("$4") breaks+=("$5") tests+=("$6")
  problems+=("$7")
}

parse() {
  local line key value n=0 block=0
  local id="" file="" from="" to="" brk="" tst="" problem="" seen=0
  flush() {
    if ((seen)); then
      block=$((block + 1))
      local missing=""
      for key in id file from to breaks tests; do
        case $key in
        id) [[ -n $id ]] || missing+=" id" ;;
        file) [[ -n $file ]] || missing+=" file" ;;
        from) [[ -n $from ]] || missing+=" from" ;;
        to) [[ -n $to ]] || missing+=" to" ;;
        breaks) [[ -n $brk ]] || missing+=" breaks" ;;
        tests) [[ -n $tst ]] || missing+=" tests" ;;
        esac
      done
      [[ -z $missing ]] || problem+="${problem:+; }missing:$missing"
      [[ -z $from || $from != "$to" ]] || problem+="${problem:+; }'to' equals 'from'"
      add_entry "${id:-block-$block}" "$file" "$from" "$to" "$brk" "$tst" "$problem"
    fi
    id="" file="" from="" to="" brk="" tst="" problem="" seen=0
  }
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    line=${line%$'\r'}
    if [[ -z $line || $line == \#* ]]; then continue; fi
    if [[ $line == --- ]]; then
      flush
      continue
    fi
    seen=1
    if [[ $line != *": "* ]]; then
      problem+="${problem:+; }line $n is not 'KEY: VALUE'"
      continue
    fi
    key=${line%%: *}
    value=${line#*: }
    case $key in
    id) id=$value ;;
    file) file=$value ;;
    from) from=$value ;;
    to) to=$value ;;
    breaks) brk=$value ;;
    tests) tst=$value ;;
    *) problem+="${problem:+; }unknown key '$key' on line $n" ;;
    esac
  done <"$list"
  flush
}
parse

# Duplicate ids are errors of both entries.
declare -A id_count=()
for id in "${ids[@]}"; do id_count[$id]=$((${id_count[$id]:-0} + 1)); done
for i in "${!ids[@]}"; do
  if ((${id_count[${ids[$i]}]} > 1)); then
    problems[i]+="${problems[$i]:+; }duplicate id"
  fi
done

# --only: keep the entries whose id matches one of the patterns.
selected=()
if [[ -n $only ]]; then
  IFS=, read -r -a patterns <<<"$only"
  declare -A matched=()
  for i in "${!ids[@]}"; do
    for p in "${patterns[@]}"; do
      # shellcheck disable=SC2053 # the pattern is meant to glob
      if [[ ${ids[$i]} == $p ]]; then
        selected+=("$i")
        matched[$p]=1
        break
      fi
    done
  done
  for p in "${patterns[@]}"; do
    [[ -n ${matched[$p]:-} ]] || { echo "run.sh: --only '$p' matches no mutation" >&2; exit 2; }
  done
else
  selected=("${!ids[@]}")
fi

# ------------------------------------------------------------------ helpers
# read_into VAR FILE: the whole file into VAR, trailing newlines included
# (a plain command substitution would drop them).
read_into() {
  local _read_into_text # a name no caller passes as VAR
  _read_into_text=$(cat -- "$2" && printf x)
  printf -v "$1" '%s' "${_read_into_text%x}"
}

# Occurrences of literal $2 in $1, not overlapping.
occurrences() {
  local hay=$1 needle=$2 n=0
  while [[ $hay == *"$needle"* ]]; do
    hay=${hay#*"$needle"}
    n=$((n + 1))
  done
  echo "$n"
}

# Whether the ctest label expression $1 selects one of the known labels.
labels_match() {
  local label
  for label in "${KNOWN_LABELS[@]}"; do
    [[ $label =~ $1 ]] && return 0
  done
  return 1
}

# Validates entry $1 against the sources; prints the problem, if any.
entry_problem() {
  local i=$1 file=${files[$1]}
  if [[ -n ${problems[$i]} ]]; then
    echo "${problems[$i]}"
  elif [[ ! -f $file ]]; then
    echo "no file '$file'"
  elif ! git ls-files --error-unmatch -- "$file" >/dev/null 2>&1; then
    echo "'$file' is not tracked by git"
  elif ! labels_match "${tests[$i]}"; then
    echo "tests '${tests[$i]}' matches no known label"
  else
    local n text
    read_into text "$file"
    n=$(occurrences "$text" "${froms[$i]}")
    ((n == 1)) || echo "'from' occurs $n times in $file, not once"
  fi
}

out() { # a result line, to the terminal and the report
  echo "$*"
  if [[ -n $report ]]; then echo "$*" >>"$report"; fi
}

stage_of() { echo "${1%%-*}"; }

# ------------------------------------------------------------------ --check
if ((check_only)); then
  bad=0
  declare -A per_stage=()
  for i in "${selected[@]}"; do
    problem=$(entry_problem "$i")
    if [[ -n $problem ]]; then
      echo "error  ${ids[$i]}  ${files[$i]:-?}  $problem"
      bad=$((bad + 1))
    fi
    s=$(stage_of "${ids[$i]}")
    per_stage[$s]=$((${per_stage[$s]:-0} + 1))
  done
  echo "${#selected[@]} mutations, $bad with errors"
  for s in "${!per_stage[@]}"; do echo "  $s: ${per_stage[$s]}"; done | sort
  exit $((bad > 0))
fi

# ------------------------------------------------------------------ running
[[ -f $build/build.ninja ]] || { echo "run.sh: '$build' is not a configured ninja build folder" >&2; exit 2; }
command -v ninja >/dev/null || { echo "run.sh: ninja not found" >&2; exit 2; }
command -v ctest >/dev/null || { echo "run.sh: ctest not found" >&2; exit 2; }

# Refuse to touch files with uncommitted changes: restoring them with
# `git checkout` would lose those changes.
dirty=()
declare -A to_touch=()
for i in "${selected[@]}"; do
  if [[ -n ${files[$i]} && -f ${files[$i]} ]]; then to_touch[${files[$i]}]=1; fi
done
for f in "${!to_touch[@]}"; do
  if ! git diff --quiet -- "$f" || ! git diff --cached --quiet -- "$f"; then dirty+=("$f"); fi
done
if ((${#dirty[@]})); then
  echo "run.sh: these files have uncommitted changes; commit or stash them first:" >&2
  printf '  %s\n' "${dirty[@]}" >&2
  exit 2
fi

logs=$build/mutation-logs
mkdir -p "$logs"
if [[ -n $report ]]; then : >"$report"; fi

mutated="" original="" # the file currently mutated and its text, restored by the traps
restore() {
  if [[ -n $mutated ]]; then
    git checkout -- "$mutated"
    # Belt and braces: git skips a checkout whose stat data look unchanged.
    if ! git diff --quiet -- "$mutated"; then printf '%s' "$original" >"$mutated"; fi
    mutated="" original=""
  fi
}
on_signal() {
  trap - INT TERM
  restore
  echo "run.sh: interrupted; sources restored. Rebuild with: ninja -C $build" >&2
  exit 130
}
trap restore EXIT
trap on_signal INT TERM

ctest_run() { # $1: label expression, $2: log file
  # The tests' on-disk cache of compiled functions (tests/CMakeLists.txt) is
  # keyed by the generated code and the backend's sources, not by all of the
  # compiler: a mutant of the cache's own keying would find the unmutated
  # machine code there.
  rm -rf "$build/test-cache"
  ctest --test-dir "$build" -L "$1" -j"$jobs" --stop-on-failure --timeout 600 \
    --no-tests=error --output-on-failure >"$2" 2>&1
}

echo "building $build before the first mutation" >&2
if ! ninja -C "$build" >"$logs/baseline.build.log" 2>&1; then
  echo "run.sh: the unmutated tree does not build; see $logs/baseline.build.log" >&2
  exit 1
fi
if ((baseline)); then
  union=""
  for i in "${selected[@]}"; do
    if [[ -n ${tests[$i]} ]]; then union+="${union:+|}${tests[$i]}"; fi
  done
  if [[ -n $union ]]; then
    echo "running the selected tests on the unmutated tree (--no-baseline skips this)" >&2
    if ! ctest_run "$union" "$logs/baseline.ctest.log"; then
      echo "run.sh: tests fail without any mutation, so no mutant could be told apart;" >&2
      echo "        see $logs/baseline.ctest.log" >&2
      exit 1
    fi
  fi
fi

killed=() survived=() invalid=() errors=()
for i in "${selected[@]}"; do
  id=${ids[$i]} file=${files[$i]}
  problem=$(entry_problem "$i")
  if [[ -n $problem ]]; then
    out "error  $id  ${file:-?}  $problem"
    errors+=("$id")
    continue
  fi
  content=""
  read_into content "$file"
  original=$content mutated=$file
  printf '%s' "${content/"${froms[$i]}"/"${tos[$i]}"}" >"$file"
  start=$SECONDS
  if ! ninja -C "$build" >"$logs/$id.build.log" 2>&1; then
    verdict=invalid
  elif ctest_run "${tests[$i]}" "$logs/$id.ctest.log"; then
    verdict=survived
  elif grep -q "No tests were found" "$logs/$id.ctest.log"; then
    verdict=error
  else
    verdict=killed
  fi
  restore
  case $verdict in
  killed) killed+=("$id") ;;
  survived) survived+=("$id") ;;
  invalid) invalid+=("$id") ;;
  error) errors+=("$id") ;;
  esac
  out "$verdict  $id  $file  ${breaks[$i]}"
  echo "    ($((SECONDS - start)) s; logs: $logs/$id.*)" >&2
done

echo "rebuilding $build from the restored sources" >&2
if ! ninja -C "$build" >"$logs/final.build.log" 2>&1; then
  echo "run.sh: the final rebuild failed; see $logs/final.build.log" >&2
fi

counted=$((${#killed[@]} + ${#survived[@]}))
if ((counted)); then
  score=$(awk -v k="${#killed[@]}" -v n="$counted" 'BEGIN { printf "%.1f%%", 100 * k / n }')
else
  score="no mutant counted"
fi
out ""
out "mutation score: ${#killed[@]}/$counted killed (${score})"
out "killed ${#killed[@]}, survived ${#survived[@]}, invalid ${#invalid[@]}, error ${#errors[@]}"
declare -A stage_killed=() stage_counted=()
for id in "${killed[@]}" "${survived[@]}"; do
  st=$(stage_of "$id")
  stage_counted[$st]=$((${stage_counted[$st]:-0} + 1))
done
for id in "${killed[@]}"; do
  st=$(stage_of "$id")
  stage_killed[$st]=$((${stage_killed[$st]:-0} + 1))
done
for st in $(printf '%s\n' "${!stage_counted[@]}" | sort); do
  out "  $st: ${stage_killed[$st]:-0}/${stage_counted[$st]} killed"
done
if ((${#survived[@]})); then out "survivors: ${survived[*]}"; fi
if ((${#invalid[@]})); then out "invalid (did not build): ${invalid[*]}"; fi
if ((${#errors[@]})); then out "errors: ${errors[*]}"; fi
