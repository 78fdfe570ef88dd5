"""(4) singer-tools' singer-check-tap accepts our tap's output: a first run, then a run from the
state the first one ended with (what `singer-check-tap --tap` does), every record validated against
its SCHEMA with Draft 4 and format checks (date-time included)."""

import re

from helpers import STREAMS, peer, records, run, run_our_tap, states, write_json


def check(tmp_path, tap_output: str) -> dict[str, int]:
    # stdin mode: `--tap` mode has a race in singer-tools 0.4.1 (it reads the summary without
    # joining its reader thread, so a quick second run crashes with `'NoneType' object has no
    # attribute 'num_messages'`); piping checks the same output with the same validator.
    p = run([peer("singerio-target", "singer-check-tap")], input=tap_output, cwd=tmp_path)
    assert "The output is valid." in p.stdout, p.stdout
    return {m[1]: int(m[2]) for m in re.finditer(r"^\| (\w+)\s+\| (\d+)\s+\|", p.stdout, re.M) for m in [m.group(0, 1, 2)]}


def test_singer_check_tap_accepts_a_full_and_an_incremental_run(tmp_path, fake_github):
    fake = fake_github()
    first = run_our_tap(tmp_path, fake)
    counted = check(tmp_path, (tmp_path / "tap.jsonl").read_text())
    assert counted == {s: len(r) for s, r in records(first).items()}
    assert sorted(counted) == sorted(STREAMS)

    fake.mutate("octo/app", new_commits=5, update_issues=4, new_issues=3)
    state = write_json(tmp_path / "state.json", states(first)[-1])
    second = run_our_tap(tmp_path, fake, "--state", state)
    counted = check(tmp_path, (tmp_path / "tap.jsonl").read_text())
    # exactly the new commits (through compare from the bookmarked head), not the 360 of the first run
    assert counted["commits"] == 5, counted
    assert counted == {s: len(r) for s, r in records(second).items()}
