"""Figures: our GitLab connector and singer-io tap-gitlab 1.0.1 on the same fake-gitlab.

For each tap, a full run and an incremental run after the same changes (gitlab_fake's
STANDARD_MUTATIONS on the larger project): streams, records, requests (the fake's counters) and
wall time. Ours runs twice: on the three streams the Python tap also has (projects, commits,
issues: the comparable figure) and on all seven of its streams.

Run from the repository root after `cargo build --workspace --bins` (any python3 >= 3.10; the
Python tap's venv is the interop suite's):

    source tests/interop/venv.sh
    INTEROP_VENV_SINGERIO_TAP_GITLAB="$(interop_venv singerio-tap-gitlab)" \\
        python3 tests/interop/bench_gitlab.py [--latency-ms 20] [--projects SPEC]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gitlab_fake import PY_STREAMS, STANDARD_MUTATIONS, FakeGitlab, ours, theirs  # noqa: E402
from helpers import our, records, run, states, venv_bin  # noqa: E402

BIG = "acme/tools/app:3000:800:300,acme/web:400:120:40"


def select(catalog: dict, streams) -> dict:
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def ours_selected(fake, workdir: Path, projects, streams, state=None):
    """tap-rest with a catalog selecting `streams` (None: all)."""
    if streams is None:
        return ours(fake, workdir, projects, state)
    import time
    cfg = workdir / "ours-config.json"
    cfg.write_text(json.dumps({"api_url": fake.http + "/api/v4", "projects": projects,
                               "private_token": "glpat-interop"}))
    cat = json.loads(run([our("tap-rest"), "--definitions", "gitlab", "--config", cfg, "--discover"]).stdout)
    (workdir / "ours-catalog.json").write_text(json.dumps(select(cat, streams)))
    cmd = [our("tap-rest"), "--definitions", "gitlab", "--config", cfg, "--catalog", workdir / "ours-catalog.json"]
    if state is not None:
        (workdir / "ours-state.json").write_text(json.dumps(state))
        cmd += ["--state", workdir / "ours-state.json"]
    t = time.monotonic()
    p = run(cmd, timeout=1800)
    from helpers import messages
    return messages(p.stdout), time.monotonic() - t


def measure(fake, label, fn):
    fake.reset_stats()
    msgs, secs = fn()
    recs = records(msgs)
    n = sum(len(v) for v in recs.values())
    reqs = fake.stats()["requests"]
    print(f"{label:<46} {len(recs):>7} {n:>8} {reqs:>8} {secs:>8.2f}")
    return msgs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", default=BIG)
    ap.add_argument("--latency-ms", type=int, default=0)
    args = ap.parse_args()
    python = str(venv_bin("singerio-tap-gitlab") / "python")
    paths = [p.split(":")[0] for p in args.projects.split(",")]
    print(f"fake-gitlab --projects {args.projects} --latency-ms {args.latency_ms}")
    print(f"{'run':<46} {'streams':>7} {'records':>8} {'requests':>8} {'seconds':>8}")
    for label, streams in (("ours (projects, commits, issues)", PY_STREAMS), ("ours (all 7 streams)", None)):
        fake = FakeGitlab(args.projects, latency_ms=args.latency_ms)
        try:
            with tempfile.TemporaryDirectory() as d:
                w = Path(d)
                first = measure(fake, f"{label}: full", lambda: ours_selected(fake, w, paths, streams))
                fake.mutate(paths[0], STANDARD_MUTATIONS)
                measure(fake, f"{label}: incremental",
                        lambda: ours_selected(fake, w, paths, streams, states(first)[-1]))
        finally:
            fake.close()
    fake = FakeGitlab(args.projects, latency_ms=args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as d:
            w = Path(d)
            first = measure(fake, "singer-io tap-gitlab 1.0.1: full", lambda: theirs(fake, w, python, paths))
            fake.mutate(paths[0], STANDARD_MUTATIONS)
            measure(fake, "singer-io tap-gitlab 1.0.1: incremental",
                    lambda: theirs(fake, w, python, paths, states(first)[-1]))
    finally:
        fake.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
