"""(7) The Meltano SDK's standard target tests, through our target-sqlite and target-postgres.

The `singer-sdk` package (pinned in requirements-sdk-tests.txt) ships its target tests as
`.singer` files (`singer_sdk/testing/target_test_streams/`) with expectations in
`target_tests.py`: which files must fail (`pytest.raises`), and the STATEs
`multiple_state_messages` must relay. Every file is replayed through both targets, each into
a fresh database; `user_location_upsert_data` and `no_primary_keys_append` also on top of the
file they follow, as the SDK's upsert and append tests do.

Expectations: the SDK's (failure or success; the relayed STATEs), and ours on the tables: a
failure is one line naming the input line, exit 1, nothing committed past the last STATE; on
success every STATE is echoed in order (the SDK's relayed STATEs among them), and every stream's table holds exactly its records
(last write per key, every record without keys), each flattened value equal to the record's.
`record_missing_required_property` must load in the SDK's eyes, which our strict default
(`on_invalid_record: fail`) refuses: it runs with `reject` and the record must be in
`_sdc_rejected_records`.
"""

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from helpers import our, run, sqlite_rows, sqlite_tables, venv_bin, write_json

# Our own expectation of each file the SDK expects to fail: the one error line.
FAILS = {
    "invalid_schema": "line 1: stream `test_invalid_schema`: schema has no `properties` object",
    "record_before_schema": "line 1: RECORD for stream `test_record_before_schema` before its SCHEMA",
    "record_missing_key_property": "line 2: stream `test_record_missing_key_property`: record is missing key property `id`",
}
SETTINGS = {"record_missing_required_property": {"on_invalid_record": "reject"}}
FOLLOWS = {"user_location_upsert_data": "user_location_data", "no_primary_keys_append": "no_primary_keys"}


def sdk_package() -> Path:
    found = list((venv_bin("sdk-tests").parent / "lib").glob("python3*/site-packages/singer_sdk"))
    assert found, "singer_sdk not installed in the sdk-tests venv"
    return found[0]


def sdk_expectations():
    """(files the SDK expects to raise, the STATEs `multiple_state_messages` must relay)."""
    text = (sdk_package() / "testing" / "target_tests.py").read_text()
    raises, states = set(), []
    for body in re.split(r"\nclass ", text)[1:]:
        name = re.search(r'name = "([^"]+)"', body)
        if not name:
            continue
        if "pytest.raises" in body:
            raises.add(name.group(1))
        if name.group(1) == "multiple_state_messages":
            states = [json.loads(s) for s in re.findall(r"'(\{[^']*\})'", body)]
    return raises, states


def sdk_files() -> dict[str, Path]:
    folder = sdk_package() / "testing" / "target_test_streams"
    return {p.stem: p for p in sorted(folder.glob("*.singer"))}


# --- our naming and flattening rules, as the README states them (target-core/src/names.rs) ---

def normalise(name: str) -> str:
    for sign, word in (("+", "plus"), ("-", "minus")):
        if name.startswith(sign) and name[1:2].isdigit():
            return word + normalise(name[1:])
    asc = lambda c, f: c.isascii() and f(c)  # noqa: E731
    out, replacing = [], False
    for i, c in enumerate(name):
        if asc(c, str.isalnum) or c == "_":
            if asc(c, str.isupper) and i > 0:
                prev, nxt = name[i - 1], name[i + 1:i + 2]
                if (asc(prev, str.islower) or asc(prev, str.isdigit) or (asc(prev, str.isupper) and nxt and asc(nxt, str.islower))) \
                        and not (out and out[-1] == "_"):
                    out.append("_")
            out.append(c.lower())
            replacing = False
        elif not replacing:
            out.append("_")
            replacing = True
    s = "".join(out)
    return "_" + s if not s or s[0].isdigit() or s.startswith("sqlite_") else s


def types_of(schema: dict) -> tuple[set, bool, dict | None]:
    """(non-null types, whether every string branch is a date-time, object properties)."""
    types, formats, props = set(), [], None
    def walk(s):
        nonlocal props
        t = s.get("type")
        ts = [t] if isinstance(t, str) else list(t or [])
        types.update(ts)
        if "string" in ts:
            formats.append(s.get("format"))
        if isinstance(s.get("properties"), dict) and props is None:
            props = s["properties"]
        for k in ("anyOf", "oneOf"):
            for b in s.get(k, []) or []:
                walk(b)
        if "type" not in s and not isinstance(s.get("anyOf"), list) and not isinstance(s.get("oneOf"), list):
            types.add("any")
    walk(schema)
    types.discard("null")
    return types, bool(formats) and all(f == "date-time" for f in formats), props


def leaf_columns(properties: dict, prefix="", path=(), depth=0):
    """(column, path, kind) of each leaf column: objects with properties are flattened."""
    for name, prop in properties.items():
        types, is_ts, props = types_of(prop)
        col = prefix + normalise(name)
        if types == {"object"} and props and depth < 10:
            yield from leaf_columns(props, col + "__", path + (name,), depth + 1)
        elif len(types) == 1 and next(iter(types)) in ("integer", "number", "boolean", "string"):
            kind = "timestamp" if types == {"string"} and is_ts else next(iter(types))
            yield col, path + (name,), kind
        else:
            yield col, path + (name,), "json"


def value_at(record, path):
    for p in path:
        if not isinstance(record, dict) or p not in record:
            return None
        record = record[p]
    return record


def expected_tables(files: list[Path]) -> dict[str, tuple[list, dict]]:
    """table -> (leaf columns of the last SCHEMA, {key: record} or {n: record})."""
    tables: dict[str, tuple[list, dict, list]] = {}
    for f in files:
        for line in f.read_text().splitlines():
            if not line.strip():
                continue
            m = json.loads(line)
            kind = m["type"].upper()
            table = normalise(m.get("stream", ""))
            if kind == "SCHEMA":
                cols = list(leaf_columns(m["schema"]["properties"]))
                old = tables.get(table, (None, {}, None))
                tables[table] = (cols, old[1], m.get("key_properties") or [])
            elif kind == "RECORD":
                cols, rows, keys = tables[table]
                k = tuple(m["record"].get(x) for x in keys) if keys else len(rows)
                rows[k] = (m["record"], cols)
    return {t: (v[0], v[1]) for t, v in tables.items()}


def without_nul(v):
    """target-postgres's rule: U+0000 becomes U+FFFD in strings and object keys."""
    if isinstance(v, str):
        return v.replace("\x00", "\ufffd")
    if isinstance(v, list):
        return [without_nul(x) for x in v]
    if isinstance(v, dict):
        return {without_nul(k): without_nul(x) for k, x in v.items()}
    return v


def same(got, want, kind, pg: bool) -> bool:
    if want is None:
        return got is None
    if pg:
        want = without_nul(want)
    if kind == "json":
        if isinstance(got, str) and not pg:
            got = json.loads(got)
        return got == want
    if kind == "timestamp" and pg:
        inst = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
        return inst(got) == inst(want)
    if kind == "boolean" and not pg:
        return got == int(want)
    return got == want


class Sqlite:
    name = "target-sqlite"

    def __init__(self, tmp: Path, _pg):
        self.db = tmp / "out.db"
        self.config = {"database": str(self.db)}

    def tables(self):
        return sqlite_tables(self.db) if self.db.exists() else set()

    def rows(self, table):
        return sqlite_rows(self.db, table)


class Postgres:
    name = "target-postgres"

    def __init__(self, tmp: Path, pg):
        self.pg, self.dbname = pg, pg.database()
        self.config = {"host": str(pg.dir), "user": "postgres", "database": self.dbname, "schema": "sdk"}

    def tables(self):
        return self.pg.tables(self.dbname, "sdk")

    def rows(self, table):
        return self.pg.rows(self.dbname, "sdk", table)


@pytest.mark.parametrize("target", [Sqlite, Postgres], ids=lambda t: t.name)
def test_sdk_target_test_streams(tmp_path, postgres, target):
    raises, relayed = sdk_expectations()
    assert set(FAILS) <= raises, f"the SDK no longer expects these to fail: {set(FAILS) - raises}"
    assert relayed, "multiple_state_messages expectation not found in target_tests.py"
    files = sdk_files()
    assert len(files) >= 20, sorted(files)
    for name, path in files.items():
        loads = [files[FOLLOWS[name]], path] if name in FOLLOWS else [path]
        work = tmp_path / name / target.name
        work.mkdir(parents=True)
        t = target(work, postgres)
        cfg = write_json(work / "config.json", {**t.config, **SETTINGS.get(name, {})})
        for f in loads:
            p = run([our(target.name), "--config", cfg, "--input", f], check=False)
        err = [l for l in p.stderr.splitlines() if "error" in l]
        if name in raises:
            assert p.returncode == 1, f"{name}: the SDK expects a failure; exit {p.returncode}"
            want = FAILS.get(name)
            assert err == [f"{target.name}: error: {want}"], f"{name}: {err}"
            assert p.stdout == "", f"{name}: nothing to echo, got {p.stdout!r}"
            continue
        assert p.returncode == 0, f"{name}: {p.stderr[-2000:]}"
        echoed = [json.loads(l) for l in p.stdout.splitlines()]
        sent = [json.loads(l)["value"] for l in path.read_text().splitlines() if l.strip() and json.loads(l)["type"] == "STATE"]
        assert echoed == sent, f"{name}: STATEs echoed {echoed}, sent {sent}"
        if name == "multiple_state_messages":
            # The SDK's own targets relay the STATE current when a sink drains (3 of the 5
            # here, an artefact of its batching); ours relay every STATE once its rows are
            # committed, so the SDK's list must be among ours, in order, ending the same.
            it = iter(echoed)
            assert all(any(e == want for e in it) for want in relayed), f"the SDK expects {relayed} among {echoed}"
            assert echoed[-1] == relayed[-1]
        tables = t.tables()
        for table, (cols, recs) in expected_tables(loads).items():
            assert table in tables, f"{name}: table {table} missing from {sorted(tables)}"
            rows = t.rows(table)
            if name in SETTINGS:
                rejected = t.rows("_sdc_rejected_records")
                assert len(rows) == 0 and len(rejected) == len(recs), f"{name}: {rows} {rejected}"
                assert "is a required property" in rejected[0]["error"], rejected
                continue
            assert len(rows) == len(recs), f"{name}: {table} has {len(rows)} rows, {len(recs)} expected"
            for record, rec_cols in recs.values():
                matches = [r for r in rows if all(
                    same(r.get(c), value_at(record, pth), kind, target is Postgres) for c, pth, kind in rec_cols)]
                assert matches, f"{name}: {table}: no row holds {record}; rows: {rows[:3]}"
