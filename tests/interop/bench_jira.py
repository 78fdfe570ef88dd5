"""Figures for the Jira connectors: ours (`tap-rest --definitions jira`) and singer-io tap-jira
2.6.0 on the same fake-jira. For each tap: streams, records, requests (from the fake's
statistics) and wall time of a full run, then of an incremental run from that run's state after
one change of each kind (an issue edited, one created, a comment, a worklog).

    cargo build -p tap-rest -p fake-jira
    export INTEROP_VENV_SINGERIO_TAP_JIRA="$(bash -c 'source tests/interop/venv.sh && interop_venv singerio-tap-jira')"
    python3 tests/interop/bench_jira.py [--issues 2000] [--latency-ms 20] [--max-concurrency 4]

TAPLINE_BIN_DIR: where tap-rest and fake-jira are (default target/debug). Our tap is timed
from the same build; a release build (TAPLINE_BIN_DIR=target/release) is faster still.
"""

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jira_peer import FakeJira, last_state, our_tap, peer_catalog, peer_tap  # noqa: E402


def summary(msgs):
    counts = collections.Counter(m["stream"] for m in msgs if m["type"] == "RECORD")
    return len(counts), sum(counts.values()), dict(sorted(counts.items()))


def measure(fake, fn, *args, **kw):
    before = fake.stats()["total"]
    started = time.monotonic()
    msgs = fn(*args, **kw)
    wall = time.monotonic() - started
    return msgs, fake.stats()["total"] - before, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--issues", type=int, default=2000)
    ap.add_argument("--projects", type=int, default=5)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--max-concurrency", type=int, default=4, help="ours: requests in flight (its default 4)")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name in ("ours", "tap-jira"):
            run_dir = tmp / name
            run_dir.mkdir()
            fake = FakeJira(run_dir, "--issues", str(a.issues), "--projects", str(a.projects),
                            "--users", str(a.users), "--latency-ms", str(a.latency_ms))
            try:
                if name == "ours":
                    def tap(state=None):
                        return our_tap(run_dir, fake, state, max_concurrency=a.max_concurrency)
                else:
                    catalog = peer_catalog(run_dir, fake)

                    def tap(state=None):
                        return peer_tap(run_dir, fake, state, catalog)
                full, full_req, full_s = measure(fake, tap)
                truth = fake.truth()
                fake.mutate(
                    {"kind": "update_issue", "key": truth["issues"][1]["key"]},
                    {"kind": "create_issue", "project": "ALPHA"},
                    {"kind": "add_comment", "key": truth["issues"][2]["key"]},
                    {"kind": "add_worklog", "key": truth["issues"][3]["key"]},
                )
                inc, inc_req, inc_s = measure(fake, tap, last_state(full))
            finally:
                fake.close()
            for label, msgs, req, wall in (("full", full, full_req, full_s), ("incremental", inc, inc_req, inc_s)):
                streams, recs, per = summary(msgs)
                rows.append((name, label, streams, recs, req, wall, per))
    print(f"fake-jira: {a.issues} issues, {a.projects} projects, {a.users} users, latency {a.latency_ms} ms; ours at {a.max_concurrency} in flight")
    print(f"{'tap':<9} {'run':<12} {'streams':>7} {'records':>8} {'requests':>9} {'wall s':>7}")
    for name, label, streams, recs, req, wall, _ in rows:
        print(f"{name:<9} {label:<12} {streams:>7} {recs:>8} {req:>9} {wall:>7.2f}")
    for name, label, *_, per in rows:
        print(f"  {name} {label}: {per}")


if __name__ == "__main__":
    main()
