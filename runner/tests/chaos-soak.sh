#!/usr/bin/env bash
# Soak mode of the chaos test (runner/tests/cli/chaos.rs): many seeds, many rounds each.
#   runner/tests/chaos-soak.sh [ITERATIONS] [ROUNDS]      (defaults: 20 iterations of 60 rounds)
# Each iteration prints its seed; a failing one stops the soak and can be replayed with
#   TAPLINE_CHAOS_SEED=<seed> TAPLINE_CHAOS_ROUNDS=<rounds> cargo test -p runner --test cli chaos -- --nocapture
set -euo pipefail
cd "$(dirname "$0")/../.."
iterations="${1:-20}"
rounds="${2:-60}"
cargo build --quiet --workspace --bins
landed=0
rows=0
for i in $(seq 1 "$iterations"); do
  seed="$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
  log="$(mktemp)"
  if ! TAPLINE_CHAOS_SEED="$seed" TAPLINE_CHAOS_ROUNDS="$rounds" \
      cargo test --quiet -p runner --test cli chaos -- --nocapture >"$log" 2>&1; then
    grep -E '^chaos:|panicked|truth keys|rows differ|lacks' "$log" || tail -40 "$log"
    echo "chaos-soak: iteration $i FAILED; replay with TAPLINE_CHAOS_SEED=$seed TAPLINE_CHAOS_ROUNDS=$rounds" >&2
    rm -f "$log"
    exit 1
  fi
  summary="$(grep -E '^chaos: [0-9]+ of' "$log")"
  equal="$(grep -E '^chaos: the database equals' "$log")"
  echo "chaos-soak: iteration $i seed $seed: ${summary#chaos: }; ${equal#chaos: }"
  landed=$((landed + $(sed -E 's/^chaos: ([0-9]+) of.*/\1/' <<<"$summary")))
  rows=$((rows + $(sed -E 's/.*\(([0-9]+) rows compared\).*/\1/' <<<"$equal")))
  rm -f "$log"
done
echo "chaos-soak: $iterations iterations x $rounds rounds: $landed kills landed, $rows rows compared, all equal to the truth"
