#!/usr/bin/env bash
# interrupt.sh: Ctrl-C in `mtlc repl` on a terminal stops a run or drops a line, never the session.
#
# Usage: interrupt.sh MTLC REPO_ROOT prompt|train|exact
#
# The REPL runs in a detached tmux pane: a real pseudo-terminal, so libedit and
# the terminal's own Ctrl-C -> SIGINT are what a user has. Keys go in with
# `tmux send-keys`, the screen comes back with `capture-pane`. Nothing sleeps a
# fixed time: every step waits, up to a deadline, for what it needs to see on
# the screen or in the terminal's mode.
#   prompt: Ctrl-C while a line or a multi-line item is typed drops it and
#           gives a fresh prompt; the session goes on; Ctrl-D leaves, status 0.
#   train:  Ctrl-C inside a long epoch (tests/repl/interrupt.mtl: seconds)
#           stops the run at a step S inside it; the message, :save and :show
#           params all say S, :eval works, and the next :train takes S+1...
#   exact:  with one step per epoch, the parameters, optimizer state and step
#           an interrupted `:train 1000000` keeps after step S are exactly
#           those of `:train S` in a piped session: the :save files are equal
#           (a model without validation data: both keep their last step).
# Exits 77 (skipped) when tmux (Debian package `tmux`) is not installed.
source "$(dirname "$0")/setup.sh" 3 "$@"
if ! command -v tmux >/dev/null; then
  echo "skipped: tmux is not installed (Debian package tmux)"
  exit 77
fi
scenario=$3
export LC_ALL=C.UTF-8
tm() { tmux -S "$scratch/tmux.sock" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$scratch"' EXIT

fail() {
  echo "FAIL: $scenario: $*"
  echo "--- the screen:"
  tm capture-pane -p -J -S - -t repl 2>/dev/null | grep -v '^$'
  exit 1
}

# The whole pane, scrollback included.
screen() { tm capture-pane -p -J -S - -t repl; }

# Waits until the screen matches the extended regex $1 (at most $2 seconds, default 60).
wait_for() {
  local deadline=$((SECONDS + ${2:-60}))
  until screen | grep -Eq -- "$1"; do
    ((SECONDS < deadline)) || fail "timed out waiting for /$1/"
    sleep 0.05
  done
}

# Waits until the REPL waits at an empty prompt: libedit has drawn it, so the
# terminal is in its editing mode and what is typed next goes to that prompt.
wait_prompt() {
  local deadline=$((SECONDS + 60))
  until [[ $(screen | sed 's/ *$//' | grep -v '^$' | tail -n 1) == "${1:-mtl>}" ]]; do
    ((SECONDS < deadline)) || fail "timed out waiting for an empty prompt"
    sleep 0.05
  done
}

type_line() { # TEXT: types it at the prompt and presses Enter
  wait_prompt
  tm send-keys -t repl -l -- "$1"
  tm send-keys -t repl Enter
}

# Whether the terminal is in canonical mode: libedit leaves its editing mode
# when it returns a line, so a :train typed at the prompt has been accepted.
canonical() { stty -F "$tty" -a | grep -Eq '(^| )icanon( |$)'; }

# Types a :train that runs for minutes, then presses Ctrl-C once the REPL runs
# it (and, with a second argument, once the screen matches that regex). A
# Ctrl-C in the microseconds between libedit returning the line and the
# command starting is dropped with the line's own, so it is pressed again
# until the run reports its interrupt.
interrupt_train() { # :TRAIN-COMMAND [REGEX]
  type_line "$1"
  local deadline=$((SECONDS + 60))
  until canonical; do
    ((SECONDS < deadline)) || fail "the REPL did not take '$1'"
    sleep 0.01
  done
  [[ -n ${2:-} ]] && wait_for "$2"
  local try
  for try in 1 2 3 4 5; do
    tm send-keys -t repl C-c
    deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)); do
      screen | grep -q 'kept the parameters of step' && return 0
      sleep 0.05
    done
  done
  fail "Ctrl-C did not stop '$1'"
}

# Leaves with Ctrl-D and checks that the REPL ended by itself with status 0.
leave() {
  wait_prompt
  tm send-keys -t repl C-d
  local deadline=$((SECONDS + 30)) end
  until [[ $(tm display-message -p -t repl '#{pane_dead}') == 1 ]]; do
    ((SECONDS < deadline)) || fail "Ctrl-D did not end the session"
    sleep 0.05
  done
  # tmux 3.3 does not always learn how a pane's process ended (it may see the
  # terminal close first), so a status is checked when there is one.
  end=$(tm display-message -p -t repl '#{pane_dead_status}:#{pane_dead_signal}')
  [[ $end == 0: || $end == : ]] || fail "the REPL ended with status:signal $end"
}

start() { # ARGS of mtlc repl
  printf 'set -g remain-on-exit on\nset -g history-limit 50000\n' >"$scratch/tmux.conf"
  # exec: the REPL itself is the pane's process, and the only one Ctrl-C reaches.
  tm -f "$scratch/tmux.conf" new-session -d -s repl -x 200 -y 50 \
    "exec '$mtlc' repl --target-cpu x86-64-v2 $*" || fail "tmux did not start"
  tty=$(tm display-message -p -t repl '#{pane_tty}')
  wait_for "compiled model"
}

case $scenario in
prompt)
  start --model d tests/repl/dropout.mtl
  # Ctrl-C once libedit shows the text: the terminal drops input not read yet on a Ctrl-C.
  wait_prompt
  prompt_text='mtl> this is not a model item'
  tm send-keys -t repl -l -- "${prompt_text#mtl> }"
  wait_for '^mtl> this is not a model item *$'
  tm send-keys -t repl Left Left # "^C" goes at the end of the line all the same
  deadline=$((SECONDS + 30))
  until [[ $(tm display-message -p -t repl '#{cursor_x}') == $((${#prompt_text} - 2)) ]]; do
    ((SECONDS < deadline)) || fail "the cursor did not move left"
    sleep 0.05
  done
  tm send-keys -t repl C-c
  wait_for '^mtl> this is not a model item\^C$'
  type_line 'task y : regress {'
  wait_prompt '...>'
  tm send-keys -t repl -l -- 'head = trunk -> dense(1)'
  wait_for '^\.\.\.> head = trunk -> dense\(1\) *$'
  tm send-keys -t repl C-c
  wait_for '^\.\.\.> head = trunk -> dense\(1\)\^C$'
  type_line ':show params'
  wait_for 'parameters \(not trained'
  screen | grep -q 'error' && fail "a line dropped with Ctrl-C was run"
  leave
  ;;
train)
  start tests/repl/interrupt.mtl
  interrupt_train ':train 100' 'ETA [0-9]' # the progress bar: the steps have begun
  line=$(screen | grep -E 'kept the parameters of step')
  [[ $line =~ ^interrupted\ at\ epoch\ [0-9]+,\ step\ ([0-9]+)\;\ kept\ the\ parameters\ of\ step\ ([0-9]+)$ ]] ||
    fail "unexpected message: $line"
  step=${BASH_REMATCH[1]}
  [[ ${BASH_REMATCH[2]} == "$step" ]] || fail "the message names two steps: $line"
  type_line ":save $scratch/interrupted.safetensors"
  wait_for "^saved model 'slow' at step $step to "
  type_line ':show params'
  wait_for "parameters, trained for $step steps?$"
  type_line ':eval'
  wait_for '^validation \([0-9]+ rows\): loss [0-9.]+$'
  # A smaller data set keeps the parameters, optimizer state and step (same
  # layout), and makes the next epoch short.
  type_line 'data train = synthetic(rows = 2000, seed = 3) {}'
  type_line ':set batch 64'
  type_line ':train 1'
  wait_for "^run 2: 1 epoch, steps $((step + 1))-$((step + 31)) \(continued\) in "
  type_line ':runs'
  wait_for "\(interrupted at step $step\)$"
  leave
  ;;
exact)
  start tests/repl/exact.mtl
  type_line ':set batch 1000'
  interrupt_train ':train 1000000'
  line=$(screen | grep -E 'kept the parameters of step')
  [[ $line =~ ^interrupted\ after\ epoch\ ([0-9]+),\ step\ ([0-9]+)\; ]] ||
    fail "unexpected message: $line"
  step=${BASH_REMATCH[2]}
  [[ ${BASH_REMATCH[1]} == "$step" ]] || fail "one step per epoch, yet: $line"
  type_line ":save $scratch/interrupted.safetensors"
  wait_for "^saved model 'd' at step $step to "
  leave
  printf '%s\n' ':set batch 1000' ":train $step" ":save $scratch/straight.safetensors" |
    timeout 300 "$mtlc" repl --target-cpu x86-64-v2 tests/repl/exact.mtl \
      >"$scratch/straight.log" 2>&1 || fail "the piped session failed: $(cat "$scratch/straight.log")"
  cmp -s "$scratch/interrupted.safetensors" "$scratch/straight.safetensors" ||
    fail "the interrupted run's checkpoint differs from :train $step's"
  ;;
*)
  echo "unknown scenario '$scenario'" >&2
  exit 2
  ;;
esac
echo "ok: $scenario${step:+ (Ctrl-C stopped the run after step $step)}"
