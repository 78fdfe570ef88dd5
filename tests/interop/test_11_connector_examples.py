"""(11) The connector examples, examples/gitlab and examples/jira, run by `tapline run` against
fake-gitlab and fake-jira (plain HTTP), load what the fake holds, and run again from their
bookmarks after changes."""

from gitlab_fake import STANDARD_MUTATIONS, TOKEN as GITLAB_TOKEN, FakeGitlab
from helpers import copy_example, env_with, sqlite_rows, tapline_run
from jira_peer import EMAIL, TOKEN as JIRA_TOKEN, FakeJira

APP = "acme/tools/app"


def test_the_gitlab_example_loads_the_fake_and_follows_changes(tmp_path):
    fake = FakeGitlab()
    try:
        env = env_with(GITLAB_API_URL=fake.http + "/api/v4", GITLAB_TOKEN=GITLAB_TOKEN,
                       GITLAB_PROJECTS=APP, START_DATE="2000-01-01T00:00:00Z")
        pipeline = copy_example("gitlab", tmp_path) / "tapline.toml"
        db = pipeline.parent / "data" / "gitlab.db"
        tapline_run(pipeline, env)
        fake.mutate(APP, STANDARD_MUTATIONS)
        second = tapline_run(pipeline, env)
        assert 0 < second["records"]["issues"] < len(fake.truth(APP)["issues"]), second
        truth = fake.truth(APP)
        for stream in ("commits", "issues", "merge_requests", "releases"):
            key = "tag_name" if stream == "releases" else "id"
            assert {r[key] for r in sqlite_rows(db, stream)} == {i[key] for i in truth[stream]}, stream
        for stream in ("issues", "merge_requests"):
            loaded = {r["id"]: r["updated_at"] for r in sqlite_rows(db, stream)}
            assert loaded == {i["id"]: i["updated_at"] for i in truth[stream]}, stream
    finally:
        fake.close()


def test_the_jira_example_loads_the_fake_and_follows_changes(tmp_path):
    fake = FakeJira(tmp_path)
    try:
        env = env_with(JIRA_BASE_URL=fake.plain_url, JIRA_EMAIL=EMAIL, JIRA_API_TOKEN=JIRA_TOKEN,
                       START_DATE="2000-01-01T00:00:00Z")
        pipeline = copy_example("jira", tmp_path) / "tapline.toml"
        db = pipeline.parent / "data" / "jira.db"
        tapline_run(pipeline, env)
        issues = fake.truth()["issues"]
        fake.mutate({"kind": "update_issue", "key": issues[5]["key"]},
                    {"kind": "add_comment", "key": issues[6]["key"]})
        second = tapline_run(pipeline, env)
        assert 0 < second["records"]["issues"] < len(issues), second
        truth = fake.truth()
        assert {r["id"] for r in sqlite_rows(db, "issues")} == {i["id"] for i in truth["issues"]}
        loaded = {r["id"]: r for r in sqlite_rows(db, "issues")}
        for item in truth["issues"]:
            assert loaded[item["id"]]["fields__updated"] == item["fields"]["updated"], item["key"]
    finally:
        fake.close()
