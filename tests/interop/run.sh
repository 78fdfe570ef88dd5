#!/usr/bin/env bash
# Interop suite: tapline's binaries against real, pinned Python Singer peers and Meltano.
#
#   bash tests/interop/run.sh [PYTEST ARGS…]
#
# TAPLINE_BIN_DIR: folder holding tap-github, tap-rest, target-sqlite, target-postgres, tapline, fake-github,
# fake-gitlab and fake-jira
# (default: <repo>/target/debug; build them with `cargo build --workspace --bins`).
# Each peer gets its own cached venv (see venv.sh); the venvs are created in parallel on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=venv.sh
source "$here/venv.sh"

bin_dir="${TAPLINE_BIN_DIR:-${CARGO_TARGET_DIR:-$repo/target}/debug}"
for b in tap-github tap-rest target-sqlite target-postgres tapline fake-github fake-gitlab fake-jira; do
  [[ -x "$bin_dir/$b" ]] || {
    echo "interop: $bin_dir/$b is missing: run \`cargo build --workspace --bins\` or set TAPLINE_BIN_DIR" >&2
    exit 1
  }
done
export TAPLINE_BIN_DIR="$(cd "$bin_dir" && pwd)"

names=(pytest singerio-target singerio-tap singerio-tap-gitlab singerio-tap-jira sdk-tap sdk-target sdk-tests dbt-postgres meltano)
declare -A pids
for n in "${names[@]}"; do
  interop_venv "$n" >/dev/null &
  pids[$n]=$!
done
failed=0
for n in "${names[@]}"; do
  wait "${pids[$n]}" || { echo "interop: venv $n could not be installed" >&2; failed=1; }
done
(( failed == 0 )) || exit 1
for n in "${names[@]}"; do
  var="INTEROP_VENV_$(tr 'a-z-' 'A-Z_' <<<"$n")"
  export "$var=$(interop_venv "$n")"
done

cd "$repo"
# -p no:cacheprovider: nothing written into the work tree.
exec "$INTEROP_VENV_PYTEST/bin/python" -m pytest -p no:cacheprovider -ra "$here" "$@"
