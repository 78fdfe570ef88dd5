"""(2) Our tap-github -> MeltanoLabs target-csv (Meltano SDK, validates every record): loads every
stream, each CSV row holds exactly the record's values, and the state it prints equals ours."""

import collections
import csv
import json

from helpers import STREAMS, canon, peer, records, run, run_our_tap, schemas, states, write_json

csv.field_size_limit(1 << 30)


def csv_cell(value) -> str:
    # target-csv writes str(value): None -> "", nested objects and arrays as Python reprs.
    return "" if value is None else str(value)


def test_target_csv_loads_every_stream_and_echoes_our_state(tmp_path, fake_github):
    fake = fake_github()
    msgs = run_our_tap(tmp_path, fake)
    sent, declared, ours = records(msgs), schemas(msgs), states(msgs)
    assert sorted(sent) == sorted(STREAMS)

    out_dir = tmp_path / "csv"
    out_dir.mkdir()
    cfg = write_json(tmp_path / "target-csv.json", {"output_path": str(out_dir), "validate_records": True})
    with open(tmp_path / "tap.jsonl") as stdin:
        p = run([peer("sdk-target", "target-csv"), "--config", cfg], stdin=stdin)

    for stream in STREAMS:
        props = sorted(declared[stream]["schema"]["properties"])
        with open(out_dir / f"{stream}.csv", newline="") as f:
            reader = csv.DictReader(f)
            assert sorted(reader.fieldnames) == props, f"{stream}: CSV columns are not the schema's properties"
            got = collections.Counter(canon(row) for row in reader)
        want = collections.Counter(canon({k: csv_cell(r.get(k)) for k in props}) for r in sent[stream])
        assert got == want, f"{stream}: {sum((want - got).values())} rows differ from the records sent"

    printed = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    assert printed, "target-csv printed no state"
    assert printed[-1] == ours[-1], "the final state target-csv printed is not our final state"
    canon_ours = {canon(s) for s in ours}
    assert all(canon(s) in canon_ours for s in printed), "target-csv printed a state we never sent"
