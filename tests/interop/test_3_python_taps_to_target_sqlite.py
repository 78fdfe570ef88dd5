"""(3) Python taps -> our target-sqlite.

a) singer-io tap-github 4.0.0 against fake-github (config `base_url`; selected catalog through
   `--properties`): the rows equal fake-github's truth, and every row holds the peer's record.
b) tap-jsonl (Meltano SDK) reading JSONL files the test writes: each row decodes back to the
   record written, content hash for content hash.
"""

import json
from datetime import datetime

from helpers import (
    EXAMPLES, assert_same_records, messages, peer, records, run, our, sqlite_rows, states, write_json,
)

# singer-io asks for stargazers with `application/vnd.github.v3.star+json`, which fake-github
# (like GitHub) honours since this suite found it did not.
PEER_STREAMS = ["commits", "comments", "issues", "pull_requests", "releases", "stargazers"]


def instant(ts: str | None):
    return None if ts is None else datetime.fromisoformat(ts.replace("Z", "+00:00"))


def selected_catalog(catalog: dict, wanted) -> dict:
    for s in catalog["streams"]:
        for m in s["metadata"]:
            if m["breadcrumb"] == []:
                m["metadata"]["selected"] = s["tap_stream_id"] in wanted
    return catalog


def assert_rows_hold_records(db, stream, key, recs):
    """Every top-level scalar of each record is in its row (last record per key wins)."""
    rows = {r[key]: r for r in sqlite_rows(db, stream)}
    latest = {r[key]: r for r in recs}
    assert set(rows) == set(latest), f"{stream}: keys in the table differ from the keys sent"
    for k, rec in latest.items():
        for name, value in rec.items():
            if isinstance(value, (dict, list)):
                continue
            if value is None and name not in rows[k]:
                # a null object: its flattened `name__*` columns are all NULL
                flat = [c for c in rows[k] if c.startswith(name + "__")]
                assert flat and all(rows[k][c] is None for c in flat), f"{stream} {key}={k}: {name} is null but not in its row"
                continue
            want = int(value) if isinstance(value, bool) else value
            assert rows[k][name] == want, f"{stream} {key}={k}: column {name} is {rows[k][name]!r}, record had {value!r}"


def test_singer_io_tap_github_into_target_sqlite(tmp_path, fake_github):
    fake = fake_github()
    tap = peer("singerio-tap", "tap-github")
    cfg = write_json(tmp_path / "peer.json", {
        "access_token": "unused", "repository": "octo/app octo/lib",
        "start_date": "2000-01-01T00:00:00Z", "base_url": fake.url,
    })
    catalog = json.loads(run([tap, "--config", cfg, "--discover"]).stdout)
    props = write_json(tmp_path / "properties.json", selected_catalog(catalog, PEER_STREAMS))
    peer_out = run([tap, "--config", cfg, "--properties", props]).stdout
    msgs = messages(peer_out)
    sent = records(msgs)
    assert sorted(sent) == sorted(PEER_STREAMS)

    db = tmp_path / "peer.db"
    tcfg = write_json(tmp_path / "target.json", {"database": str(db)})
    p = run([our("target-sqlite"), "--config", tcfg], input=peer_out)
    assert json.loads(p.stdout.splitlines()[-1]) == states(msgs)[-1]

    truths = [fake.truth(r) for r in ("octo/app", "octo/lib")]
    commits = {c["sha"]: c for t in truths for c in t["commits"]}
    issues = {i["id"]: i for t in truths for i in t["issues"]}
    comments = {c["id"]: c for t in truths for c in t["comments"]}
    pulls = {i["pr_id"]: i for i in issues.values() if i["is_pr"]}

    rows = {r["sha"]: r for r in sqlite_rows(db, "commits")}
    assert set(rows) == set(commits)
    for sha, c in commits.items():
        assert instant(rows[sha]["commit__committer__date"]) == instant(c["committer_date"]), sha
    rows = {r["id"]: r for r in sqlite_rows(db, "issues")}
    assert set(rows) == set(issues), "issues (pull requests included) differ from the truth"
    for i, t in issues.items():
        r = rows[i]
        assert (r["number"], r["state"]) == (t["number"], t["state"]), i
        assert [instant(r[k]) for k in ("created_at", "updated_at", "closed_at")] == \
               [instant(t[k]) for k in ("created_at", "updated_at", "closed_at")], i
    rows = {r["id"]: r for r in sqlite_rows(db, "comments")}
    assert set(rows) == set(comments)
    for i, t in comments.items():
        assert instant(rows[i]["updated_at"]) == instant(t["updated_at"]), i
    rows = {r["id"]: r for r in sqlite_rows(db, "pull_requests")}
    assert set(rows) == set(pulls)
    for i, t in pulls.items():
        assert (rows[i]["number"], instant(rows[i]["merged_at"])) == (t["number"], instant(t["merged_at"])), i
    assert {r["id"] for r in sqlite_rows(db, "releases")} == {r["id"] for t in truths for r in t["releases"]}
    # Every star arrives; singer-io keys stargazers on `user_id` alone, so a user who starred both
    # repositories is one row (the peer's choice; our tap keys on repository and user).
    assert sorted(r["user_id"] for r in sent["stargazers"]) == \
        sorted(g["user_id"] for t in truths for g in t["stargazers"])
    assert {r["user_id"] for r in sqlite_rows(db, "stargazers")} == \
        {g["user_id"] for t in truths for g in t["stargazers"]}

    keys = {"commits": "sha", "comments": "id", "issues": "id", "pull_requests": "id", "releases": "id",
            "stargazers": "user_id"}
    for stream, key in keys.items():
        assert_rows_hold_records(db, stream, key, sent[stream])


def decode_row(row: dict, like: dict) -> dict:
    """A target-sqlite row back into JSON values, for the keys of the record written."""
    out = {}
    for k, v in like.items():
        cell = row[k]
        if isinstance(v, (dict, list)) and cell is not None:
            cell = json.loads(cell)
        elif isinstance(v, bool) and cell is not None:
            cell = bool(cell)
        out[k] = cell
    return out


def people():
    """Records with every JSON kind: nested object, array, bool, float, null, non-ASCII, timestamps."""
    return [{
        "id": i, "name": f"user {i} – ü", "score": i * 1.5, "active": i % 2 == 0,
        "tags": ["a", "b", "c"][: i % 4], "address": {"city": "Zürich", "zip": str(8000 + i), "geo": {"lat": 47.3, "lon": 8.5}},
        "joined_at": f"2024-01-{i % 28 + 1:02d}T10:00:00Z", "note": None if i % 4 else "quoted \"text\"\nline",
    } for i in range(1, 121)]


def test_sdk_tap_jsonl_into_target_sqlite(tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    written = people()
    for n, chunk in enumerate((written[:70], written[70:])):
        (data / f"part-{n}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk))
    cfg = write_json(tmp_path / "tap-jsonl.json", {"path": f"{data}/*.jsonl", "stream_name": "people", "primary_keys": ["id"]})
    out = run([peer("sdk-tap", "tap-jsonl"), "--config", cfg]).stdout
    msgs = messages(out)

    db = tmp_path / "people.db"
    tcfg = write_json(tmp_path / "target.json", {"database": str(db)})
    p = run([our("target-sqlite"), "--config", tcfg], input=out)
    assert json.loads(p.stdout.splitlines()[-1]) == states(msgs)[-1], "target-sqlite did not echo the SDK tap's last state"

    rows = {r["id"]: r for r in sqlite_rows(db, "people")}
    assert_same_records("people", written, [decode_row(rows[r["id"]], r) for r in written])
    # The SDK's own columns arrive too, and time_extracted becomes _sdc_extracted_at.
    extracted = {m["record"]["id"]: m for m in msgs if m["type"] == "RECORD"}
    for i, row in rows.items():
        assert row["_sdc_filename"] == extracted[i]["record"]["_sdc_filename"]
        assert instant(row["_sdc_extracted_at"]) == instant(extracted[i]["time_extracted"])
