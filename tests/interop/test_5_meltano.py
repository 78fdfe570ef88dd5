"""(5) Meltano 4.x drives our binaries from examples/meltano/meltano.yml (custom plugins: namespace,
executable, capabilities, no pip_url): `meltano run tap-github target-sqlite` loads the truth, a
second run after new data starts from the state Meltano stored and fetches only the new data, and
`tapline state set` takes over Meltano's bookmarks (`meltano state get` output) unchanged."""

import json

from helpers import copy_example, env_with, our, peer, requests_between, run, sqlite_rows, write_json

STATE_ID = "dev:tap-github-to-target-sqlite"
INCREMENTAL = ["commits", "issues", "pull_requests", "issue_comments"]
# The full load of octo/app:1500:400 (100 a page) takes 31 requests: 1 repository, 15 pages of
# commits, then issues, pulls and comments pages; the incremental run after a change takes 5.


def table_keys(db, table, key):
    return {r[key] for r in sqlite_rows(db, table)}


def assert_matches_truth(db, fake):
    truth = fake.truth("octo/app")
    assert table_keys(db, "commits", "sha") == {c["sha"] for c in truth["commits"]}
    assert table_keys(db, "issues", "id") == {i["id"] for i in truth["issues"]}
    assert table_keys(db, "pull_requests", "id") == {i["pr_id"] for i in truth["issues"] if i["is_pr"]}
    assert table_keys(db, "issue_comments", "id") == {c["id"] for c in truth["comments"]}
    updated = {r["id"]: r["updated_at"] for r in sqlite_rows(db, "issues")}
    assert updated == {i["id"]: i["updated_at"] for i in truth["issues"]}


def test_meltano_runs_our_plugins_incrementally(tmp_path, fake_github):
    fake = fake_github(repos="octo/app:1500:400")  # many pages, so a fetch of everything would show
    project = copy_example("meltano", tmp_path)
    meltano = peer("meltano", "meltano")
    env = env_with(
        TAP_GITHUB_API_URL=fake.url, TAP_GITHUB_REPOSITORIES='["octo/app"]',
        TAP_GITHUB_START_DATE="2000-01-01T00:00:00Z", GITHUB_TOKEN="",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false", NO_COLOR="1",
    )
    db = project / "output" / "github.db"

    before = fake.stats()
    run([meltano, "run", "tap-github", "target-sqlite"], cwd=project, env=env)
    first = requests_between(before, fake.stats())
    assert_matches_truth(db, fake)
    stored = json.loads(run([meltano, "state", "get", STATE_ID], cwd=project, env=env).stdout)
    bookmarks = stored["singer_state"]["bookmarks"]
    assert sorted(bookmarks) == sorted(INCREMENTAL), "Meltano stored the state our target printed"

    top_seq = max(r["_sdc_sequence"] for r in sqlite_rows(db, "commits"))
    fake.mutate("octo/app", new_commits=7, update_issues=5, new_issues=4)
    before = fake.stats()
    run([meltano, "run", "tap-github", "target-sqlite"], cwd=project, env=env)
    second = requests_between(before, fake.stats())
    assert_matches_truth(db, fake)
    # Only new data: one request per incremental stream (the since= page holds the news; pulls
    # stops at the first older record; commits: the head probe) plus compare for the new commits
    # and the repository itself, against every page the first time.
    assert second["total"] == 2 + len(INCREMENTAL), second
    # 31 pages, plus the commits' head probe, one issues page (re-anchored pages overlap) and the
    # commits' first page asked again after their pages were fetched ahead (a list that grew at
    # its head while read out of order is read again).
    assert first["total"] == 34 and second["total"] < first["total"], (first, second)
    touched = [r for r in sqlite_rows(db, "commits") if r["_sdc_sequence"] > top_seq]
    assert len(touched) == 7, "the second run loaded exactly the new commits (through compare), nothing else"

    # A run with nothing new: 5 requests (its bookmarks are the new ones, so the answers are the
    # boundary records and fresh ETags, which the state Meltano stores keeps; the commits' head
    # probe answers 304).
    before = fake.stats()
    run([meltano, "run", "tap-github", "target-sqlite"], cwd=project, env=env)
    assert requests_between(before, fake.stats())["total"] == 1 + len(INCREMENTAL)

    # Moving to tapline: `tapline state set` accepts `meltano state get` output as it is, and the
    # next run asks with Meltano's bookmarks and ETags: every incremental stream answers 304.
    state_file = tmp_path / "meltano-state.json"
    state_file.write_text(run([meltano, "state", "get", STATE_ID], cwd=project, env=env).stdout)
    pipeline = copy_example("github-repo", tmp_path) / "tapline.toml"
    tenv = env_with(GITHUB_API_URL=fake.url, GITHUB_REPOSITORY="octo/app", GITHUB_TOKEN="x", START_DATE="2000-01-01T00:00:00Z")
    run([our("tapline"), "state", "set", state_file, "-c", pipeline], env=tenv)
    shown = json.loads(run([our("tapline"), "state", "show", "-c", pipeline], env=tenv).stdout)
    assert shown == json.loads(state_file.read_text())["singer_state"]
    before = fake.stats()
    out = run([our("tapline"), "run", "-c", pipeline, "--no-dbt", "-q", "--output", "json",
               "--select", ",".join(INCREMENTAL)], env=tenv).stdout
    moved = requests_between(before, fake.stats())
    summary = json.loads(out)
    assert summary["status"] == "success" and sum(summary["records"].values()) == 0, summary
    assert moved["total"] == len(INCREMENTAL) and all(set(s) == {"304"} for s in moved["by_path"].values()), moved


def test_meltano_runs_a_connector_through_tap_rest(tmp_path, fake_github):
    """`tap-rest` as a Meltano extractor: Meltano passes only --config (and --catalog, --state);
    the config's `definitions` names the connector. Two runs: the truth, then only new data."""
    fake = fake_github(repos="octo/app:300:120")
    project = copy_example("meltano", tmp_path)
    meltano = peer("meltano", "meltano")
    env = env_with(
        TAP_REST_GITHUB_API_URL=fake.url, TAP_REST_GITHUB_REPOSITORIES='["octo/app"]',
        TAP_REST_GITHUB_START_DATE="2000-01-01T00:00:00Z", GITHUB_TOKEN="",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false", NO_COLOR="1",
    )
    db = project / "output" / "github.db"
    run([meltano, "run", "tap-rest-github", "target-sqlite"], cwd=project, env=env)
    truth = fake.truth("octo/app")
    assert table_keys(db, "commits", "sha") == {c["sha"] for c in truth["commits"]}
    assert table_keys(db, "issues", "id") == {i["id"] for i in truth["issues"]}
    stored = json.loads(run([meltano, "state", "get", "dev:tap-rest-github-to-target-sqlite"],
                            cwd=project, env=env).stdout)
    assert sorted(stored["singer_state"]["bookmarks"]) == ["commits", "issues"]

    fake.mutate("octo/app", new_commits=3, update_issues=2)
    before = fake.stats()
    run([meltano, "run", "tap-rest-github", "target-sqlite"], cwd=project, env=env)
    moved = requests_between(before, fake.stats())
    truth = fake.truth("octo/app")
    assert table_keys(db, "commits", "sha") == {c["sha"] for c in truth["commits"]}
    updated = {r["id"]: r["updated_at"] for r in sqlite_rows(db, "issues")}
    assert updated == {i["id"]: i["updated_at"] for i in truth["issues"]}
    # Commits: head probe + compare; issues: one since= page.
    assert moved["total"] == 3, moved
