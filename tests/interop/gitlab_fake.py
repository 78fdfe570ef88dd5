"""fake-gitlab for the interop suite: one instance served over HTTPS (for the Python tap, which
trusts the throwaway certificate through REQUESTS_CA_BUNDLE) and over plain HTTP (for
tap-rest), with its test controls. Also used by bench_gitlab.py."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from helpers import our, run, messages

PROJECTS = "acme/tools/app:300:130:40,acme/web:40:12:6"
TOKEN = "glpat-interop"
HERE = Path(__file__).resolve().parent


class FakeGitlab:
    """A fake-gitlab process on free loopback ports."""

    def __init__(self, projects: str = PROJECTS, seed: int = 7, latency_ms: int = 0):
        self.dir = tempfile.TemporaryDirectory(prefix="fake-gitlab-tls-")
        cmd = [our("fake-gitlab"), "--seed", str(seed), "--projects", projects, "--token", TOKEN,
               "--tls-dir", self.dir.name, "--also-http", "--latency-ms", str(latency_ms)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        first = self.proc.stdout.readline().strip()
        second = self.proc.stdout.readline().strip()
        assert first.startswith("listening https://127.0.0.1:"), f"fake-gitlab said {first!r}"
        assert second.startswith("also http://127.0.0.1:"), f"fake-gitlab said {second!r}"
        self.https = first.split(" ", 1)[1]
        self.http = second.split(" ", 1)[1]
        self.ca = str(Path(self.dir.name) / "cert.pem")

    def _call(self, path: str, body: bytes | None = None):
        req = urllib.request.Request(self.http + path, data=body, method="POST" if body is not None else "GET")
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
        return json.loads(text) if text else None

    def truth(self, project: str) -> dict:
        return self._call(f"/_fake/truth?project={project}")

    def stats(self) -> dict:
        return self._call("/_fake/stats")

    def reset_stats(self) -> None:
        self._call("/_fake/stats/reset", b"")

    def mutate(self, project: str, mutations: list[dict]) -> None:
        self._call(f"/_fake/mutate?project={project}", json.dumps(mutations).encode())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.dir.cleanup()


STANDARD_MUTATIONS = [
    {"kind": "new_issue"}, {"kind": "update_issue", "iid": 3}, {"kind": "note_on_issue", "iid": 7},
    {"kind": "new_merge_request"}, {"kind": "update_merge_request", "iid": 2},
    {"kind": "note_on_merge_request", "iid": 4}, {"kind": "push", "commits": 3}, {"kind": "new_release"},
]


def ours(fake: FakeGitlab, workdir: Path, projects: list[str], state: dict | None = None):
    """tap-rest --definitions gitlab on the fake's plain listener: (messages, seconds)."""
    cfg = workdir / "ours-config.json"
    cfg.write_text(json.dumps({"api_url": fake.http + "/api/v4", "projects": projects, "private_token": TOKEN}))
    cmd = [our("tap-rest"), "--definitions", "gitlab", "--config", cfg]
    if state is not None:
        (workdir / "ours-state.json").write_text(json.dumps(state))
        cmd += ["--state", workdir / "ours-state.json"]
    t = time.monotonic()
    p = run(cmd)
    return messages(p.stdout), time.monotonic() - t


PY_STREAMS = ["projects", "commits", "issues"]


def theirs(fake: FakeGitlab, workdir: Path, python: str, projects: list[str], state: dict | None = None,
           streams=PY_STREAMS):
    """singer-io tap-gitlab 1.0.1 (through tap_gitlab_at.py) over HTTPS: (messages, seconds)."""
    cfg = workdir / "theirs-config.json"
    cfg.write_text(json.dumps({"private_token": TOKEN, "start_date": "2020-01-01T00:00:00Z",
                               "groups": "", "projects": " ".join(projects)}))
    env = {"TAP_GITLAB_BASE_URL": fake.https + "/api/v4", "REQUESTS_CA_BUNDLE": fake.ca, "PATH": "/usr/bin:/bin"}
    wrapper = str(HERE / "tap_gitlab_at.py")
    catalog = json.loads(run([python, wrapper, "--config", cfg, "--discover"], env=env).stdout)
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] in streams
    (workdir / "theirs-catalog.json").write_text(json.dumps(catalog))
    cmd = [python, wrapper, "--config", cfg, "--catalog", workdir / "theirs-catalog.json"]
    if state is not None:
        (workdir / "theirs-state.json").write_text(json.dumps(state))
        cmd += ["--state", workdir / "theirs-state.json"]
    t = time.monotonic()
    p = run(cmd, env=env)
    return messages(p.stdout), time.monotonic() - t


if __name__ == "__main__":
    sys.exit("a module: see test_9_tap_gitlab.py and bench_gitlab.py")
