"""(1) Our tap-github -> singer-io target-jsonl: every stream's records arrive unchanged."""

import json

from helpers import STREAMS, assert_same_records, peer, records, run, run_our_tap, states, write_json


def test_target_jsonl_receives_every_record_unchanged(tmp_path, fake_github):
    fake = fake_github()
    msgs = run_our_tap(tmp_path, fake)
    sent = records(msgs)
    assert sorted(sent) == sorted(STREAMS), "every stream must carry records"

    out_dir = tmp_path / "jsonl"
    cfg = write_json(tmp_path / "target-jsonl.json", {"destination_path": str(out_dir), "do_timestamp_file": False})
    with open(tmp_path / "tap.jsonl") as stdin:
        p = run([peer("singerio-target", "target-jsonl"), "--config", cfg], stdin=stdin)

    for stream in STREAMS:
        got = [json.loads(line) for line in (out_dir / f"{stream}.jsonl").read_text().splitlines()]
        assert_same_records(stream, sent[stream], got)
    # target-jsonl prints the last STATE it saw when the input ends with one; ours always does.
    assert [json.loads(line) for line in p.stdout.splitlines()] == [states(msgs)[-1]]
