"""fake-jira over HTTPS and the two Jira taps on it: ours (`tap-rest --definitions jira`) and
singer-io tap-jira 2.6.0 (venv `singerio-tap-jira`). Used by test_10_tap_jira.py and
bench_jira.py.

tap-jira forces `https://` onto its `base_url`, so the fake serves TLS with a throwaway
certificate authority (`--tls-dir`); ours reads the same site over plain HTTP (`--also-http`:
one process, one world, one set of statistics), since its TLS client trusts public roots only. tap-jira sends every request through `Session.send`, which
ignores `REQUESTS_CA_BUNDLE` (requests reads it only in `Session.request`): a `sitecustomize`
on its `PYTHONPATH` sets its sessions' `verify` to that bundle. Nothing else of the tap changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
import ssl
from pathlib import Path

from helpers import messages, our, peer, run, write_json

EMAIL = "ana@example.com"
TOKEN = "jira-t0ken"
START_DATE = "2024-01-01T00:00:00Z"
# tap-jira's streams we select; its other streams (versions, components, project types and
# categories, resolutions, roles, changelogs, transitions) have no counterpart in ours.
PEER_STREAMS = ["projects", "users", "issues", "issue_comments", "worklogs"]

SITECUSTOMIZE = '''\
import os

import requests

_init = requests.Session.__init__


def _trusting_init(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.verify = os.environ.get("REQUESTS_CA_BUNDLE", True)


requests.Session.__init__ = _trusting_init
'''


class FakeJira:
    """A fake-jira process on a free loopback port, over HTTPS, with its test controls."""

    def __init__(self, tmp: Path, *extra: str):
        self.tls = tmp / "tls"
        cmd = [our("fake-jira"), "--port", "0", "--tls-dir", self.tls, "--also-http",
               "--email", EMAIL, "--api-token", TOKEN, *extra]
        self.proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening https://127.0.0.1:"), f"fake-jira said {line!r}"
        self.url = line.split(" ", 1)[1]
        # The same site over plain HTTP, for our tap (its TLS client trusts public roots only).
        plain = self.proc.stdout.readline().strip()
        assert plain.startswith("also http://127.0.0.1:"), f"fake-jira said {plain!r}"
        self.plain_url = plain.split(" ", 1)[1]
        self.ca = self.tls / "cert.pem"
        self._ssl = ssl.create_default_context(cafile=str(self.ca))

    def _call(self, path: str, body=None):
        req = urllib.request.Request(self.url + path, data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30, context=self._ssl) as r:
            return json.load(r)

    def truth(self) -> dict:
        return self._call("/_fake/truth")

    def stats(self) -> dict:
        return self._call("/_fake/stats")

    def requests(self) -> list[str]:
        return self._call("/_fake/requests")

    def mutate(self, *mutations: dict) -> None:
        self._call("/_fake/mutate", json.dumps(list(mutations)).encode())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def our_tap(tmp: Path, fake: FakeJira, state: dict | None = None, **settings) -> list[dict]:
    """One run of `tap-rest --definitions jira` (with `settings` added to its config); its
    messages."""
    cfg = write_json(tmp / "ours.json", {"base_url": fake.plain_url, "email": EMAIL, "api_token": TOKEN, **settings})
    cmd = [our("tap-rest"), "--definitions", "jira", "--config", cfg]
    if state is not None:
        cmd += ["--state", write_json(tmp / "ours-state.json", state)]
    return messages(run(cmd).stdout)


def peer_env(tmp: Path, fake: FakeJira) -> dict:
    site = tmp / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return dict(os.environ, REQUESTS_CA_BUNDLE=str(fake.ca), PYTHONPATH=str(site))


def peer_catalog(tmp: Path, fake: FakeJira) -> Path:
    """tap-jira's discovered catalog with PEER_STREAMS selected."""
    tap = peer("singerio-tap-jira", "tap-jira")
    catalog = json.loads(run([tap, "--config", peer_config(tmp, fake), "--discover"], env=peer_env(tmp, fake)).stdout)
    for s in catalog["streams"]:
        for m in s["metadata"]:
            if m["breadcrumb"] == []:
                m["metadata"]["selected"] = s["tap_stream_id"] in PEER_STREAMS
    return write_json(tmp / "peer-catalog.json", catalog)


def peer_config(tmp: Path, fake: FakeJira) -> Path:
    return write_json(tmp / "peer.json", {
        "base_url": fake.url, "username": EMAIL, "password": TOKEN,
        "start_date": START_DATE, "user_agent": "tapline-interop",
    })


def peer_tap(tmp: Path, fake: FakeJira, state: dict | None = None, catalog: Path | None = None) -> list[dict]:
    """One run of singer-io tap-jira with PEER_STREAMS selected (discovered first unless
    `catalog` is given); its messages."""
    tap = peer("singerio-tap-jira", "tap-jira")
    catalog = catalog or peer_catalog(tmp, fake)
    cmd = [tap, "--config", peer_config(tmp, fake), "--properties", catalog]
    if state is not None:
        cmd += ["--state", write_json(tmp / "peer-state.json", state)]
    return messages(run(cmd, env=peer_env(tmp, fake)).stdout)


def last_state(msgs: list[dict]) -> dict:
    return [m["value"] for m in msgs if m["type"] == "STATE"][-1]


def timed(fn, *args, **kw):
    started = time.monotonic()
    out = fn(*args, **kw)
    return out, time.monotonic() - started
