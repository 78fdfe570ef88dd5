"""Shared helpers of the interop suite: binaries, venvs, fake-github, Singer parsing, hashes."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
BIN = Path(os.environ.get("TAPLINE_BIN_DIR", REPO / "target" / "debug"))
REPOS = "octo/app:300:120,octo/lib:60:20"
# Every stream tap-github declares; each must carry records in test 1.
STREAMS = [
    "repositories", "commits", "issues", "pull_requests", "pull_request_reviews",
    "issue_comments", "releases", "stargazers", "contributors",
]


def our(name: str) -> str:
    """Path of one of our binaries (tap-github, target-sqlite, tapline, fake-github)."""
    path = BIN / name
    assert path.exists(), f"{path} missing: build with `cargo build --workspace --bins`"
    return str(path)


def venv_bin(name: str) -> Path:
    """bin/ of the peer venv run.sh made for requirements-NAME.txt."""
    var = "INTEROP_VENV_" + name.upper().replace("-", "_")
    assert var in os.environ, f"{var} not set: run the suite with tests/interop/run.sh"
    return Path(os.environ[var]) / "bin"


def peer(venv: str, exe: str) -> str:
    path = venv_bin(venv) / exe
    assert path.exists(), f"{path} missing"
    return str(path)


def canon(obj) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(obj) -> str:
    return hashlib.sha256(canon(obj).encode()).hexdigest()


def run(cmd, *, check=True, timeout=300, **kw) -> subprocess.CompletedProcess:
    """subprocess.run with captured text output; a failure shows the command and its stderr tail."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    p = subprocess.run([str(c) for c in cmd], timeout=timeout, **kw)
    if check and p.returncode != 0:
        tail = "\n".join((p.stderr or "").splitlines()[-40:])
        raise AssertionError(f"{cmd[0]} exited {p.returncode}\n--- stderr tail ---\n{tail}\n--- stdout tail ---\n{(p.stdout or '')[-2000:]}")
    return p


def messages(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def by_type(msgs, kind: str) -> list[dict]:
    return [m for m in msgs if m["type"].upper() == kind]


def records(msgs) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = collections.defaultdict(list)
    for m in by_type(msgs, "RECORD"):
        out[m["stream"]].append(m["record"])
    return dict(out)


def states(msgs) -> list:
    return [m["value"] for m in by_type(msgs, "STATE")]


def schemas(msgs) -> dict[str, dict]:
    return {m["stream"]: m for m in by_type(msgs, "SCHEMA")}


def hashes(recs) -> collections.Counter:
    return collections.Counter(digest(r) for r in recs)


def assert_same_records(stream: str, sent: list[dict], got: list[dict]) -> None:
    """Same key sets and the same multiset of per-record content hashes."""
    assert len(got) == len(sent), f"{stream}: {len(got)} records arrived, {len(sent)} sent"
    assert sorted(canon(sorted(r)) for r in got) == sorted(canon(sorted(r)) for r in sent), f"{stream}: key sets differ"
    missing = hashes(sent) - hashes(got)
    extra = hashes(got) - hashes(sent)
    if missing or extra:
        by_hash = {digest(r): r for r in sent + got}
        example = next(iter(missing or extra))
        raise AssertionError(f"{stream}: {sum(missing.values())} records changed, e.g. {canon(by_hash[example])[:600]}")


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj, indent=1))
    return path


def sqlite_rows(db: Path, table: str) -> list[dict]:
    con = sqlite3.connect(str(db))
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f'SELECT * FROM "{table}"')]
    finally:
        con.close()


def sqlite_tables(db: Path) -> set[str]:
    con = sqlite3.connect(str(db))
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()


class Fake:
    """A fake-github process on a free loopback port, with its test controls."""

    def __init__(self, repos: str = REPOS, org: str | None = None, seed: int = 7):
        cmd = [our("fake-github"), "--port", "0", "--seed", str(seed), "--repos", repos]
        if org:
            cmd += ["--org", org]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening http://127.0.0.1:"), f"fake-github said {line!r}"
        self.url = line.split(" ", 1)[1]

    def _get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.load(r)

    def truth(self, repo: str) -> dict:
        return self._get(f"/_fake/truth?repo={repo}")

    def stats(self) -> dict:
        return self._get("/_fake/stats")

    def mutate(self, repo: str, new_commits=0, update_issues=0, new_issues=0) -> None:
        req = urllib.request.Request(
            f"{self.url}/_fake/mutate?repo={repo}&new_commits={new_commits}"
            f"&update_issues={update_issues}&new_issues={new_issues}",
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def tap_config(path: Path, fake: Fake, repos=("octo/app", "octo/lib"), **extra) -> Path:
    cfg = {"repositories": list(repos), "start_date": "2000-01-01T00:00:00Z", "api_url": fake.url, "auth_token": ""}
    cfg.update(extra)
    return write_json(path, cfg)


def run_our_tap(tmp: Path, fake: Fake, *args, **extra) -> list[dict]:
    """Our tap-github against the fake; its stdout parsed (also kept in tmp/tap.jsonl)."""
    cfg = tap_config(tmp / "tap-config.json", fake, **extra)
    out = run([our("tap-github"), "--config", cfg, *args]).stdout
    (tmp / "tap.jsonl").write_text(out)
    return messages(out)


def copy_example(name: str, dest: Path) -> Path:
    """A fresh copy of examples/NAME (without anything a previous local run left there)."""
    import shutil

    target = dest / "examples" / name
    if not (dest / "dbt").exists():  # examples name the repository's dbt project as ../../dbt
        (dest / "dbt").symlink_to(REPO / "dbt")
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns(".meltano", ".tapline", "output", "*.db", "*.db-*"))
    return target


def env_with(path_dirs=(), **env) -> dict:
    """os.environ plus env, with path_dirs in front of PATH and our binaries right after them."""
    out = dict(os.environ)
    out.update({k: str(v) for k, v in env.items()})
    out["PATH"] = os.pathsep.join([*map(str, path_dirs), str(BIN), out.get("PATH", "")])
    return out


def requests_between(before: dict, after: dict) -> dict:
    """Requests per path (all statuses) and per status made between two /_fake/stats snapshots."""
    paths = {}
    for path, by_status in after["by_path"].items():
        for status, n in by_status.items():
            d = n - before["by_path"].get(path, {}).get(status, 0)
            if d:
                paths.setdefault(path, {})[status] = d
    return {"total": after["total"] - before["total"], "by_path": paths}


class Postgres:
    """A throwaway PostgreSQL (Debian's package) in a temporary folder, on a Unix socket there
    only, fsync on; run as user `postgres` (else `nobody`) when we are root. Like the Rust
    harness in target-postgres/testsupport/cluster.rs."""

    def __init__(self):
        import glob
        import shutil
        import tempfile

        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        assert bins, "PostgreSQL not found: apt-get install -y postgresql"
        self.bin = Path(bins[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="tapline-pg-"))
        self._shutil = shutil
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            import pwd

            for user in ("postgres", "nobody"):
                try:
                    pw = pwd.getpwnam(user)
                    break
                except KeyError:
                    continue
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.prefix = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"]
        data = self.dir / "data"
        run([*self.prefix, self.bin / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        run([*self.prefix, self.bin / "pg_ctl", "-D", data, "-l", self.dir / "server.log", "-w", "-o",
             f"-k {self.dir} -c listen_addresses='' -c fsync=on", "start"], stdout=subprocess.DEVNULL, capture_output=False)
        self.count = 0

    def database(self) -> str:
        self.count += 1
        name = f"t{self.count}"
        self.sql("postgres", f"CREATE DATABASE {name}")
        return name

    def sql(self, db: str, sql: str) -> str:
        return run(["psql", "-h", self.dir, "-U", "postgres", "-d", db, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]).stdout

    def rows(self, db: str, schema: str, table: str) -> list[dict]:
        out = self.sql(db, f'SELECT coalesce(json_agg(t), \'[]\') FROM "{schema}"."{table}" t')
        return json.loads(out)

    def tables(self, db: str, schema: str) -> set[str]:
        out = self.sql(db, f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'")
        return set(out.split())

    def stop(self) -> None:
        subprocess.run([*self.prefix, self.bin / "pg_ctl", "-D", self.dir / "data", "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        self._shutil.rmtree(self.dir, ignore_errors=True)


def tapline_run(pipeline, env, *args, stderr=None) -> dict:
    """`tapline run --no-dbt --output json` of `pipeline` with `env`; its summary, which must say success."""
    # -q also quiets the children's relayed lines: keep them when the caller reads them.
    quiet = [] if stderr is not None else ["-q"]
    p = run([our("tapline"), "run", "-c", pipeline, "--no-dbt", *quiet, "--output", "json", *args], env=env)
    summary = json.loads(p.stdout)
    assert summary["status"] == "success" and summary["exit_code"] == 0, summary
    if stderr is not None:
        stderr.append(p.stderr)
    return summary
