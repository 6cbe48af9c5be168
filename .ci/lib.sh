# Shared by the .ci scripts: timing of named stages, and the PATH the tools live on.
# shellcheck shell=bash

export PATH="$HOME/.cargo/bin:$PWD/tests/e2e/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
STAGE_LOG="$(mktemp)"

# stage NAME COMMAND... : runs the command, prints and records how long it took.
stage() {
  local name="$1"; shift
  local start=$SECONDS
  printf '\n=== %s ===\n' "$name"
  "$@"
  local took=$((SECONDS - start))
  printf '=== %s: %d min %02d s ===\n' "$name" $((took / 60)) $((took % 60))
  printf '%-28s %3d min %02d s\n' "$name" $((took / 60)) $((took % 60)) >>"$STAGE_LOG"
}

# stage_summary: the table of stage times so far.
stage_summary() {
  printf '\nStage times:\n'
  cat "$STAGE_LOG"
}
