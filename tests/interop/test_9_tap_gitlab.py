"""Our GitLab connector (`tap-rest --definitions gitlab`) and singer-io tap-gitlab 1.0.1 on the
same fake-gitlab: the streams both have must agree, key and fields, on a full run and after an
incremental run.

The Python tap hard-codes https://gitlab.com/api/v4; tap_gitlab_at.py replaces that base URL at
start (see its docstring), and the fake serves HTTPS with a throwaway certificate the tap trusts
through REQUESTS_CA_BUNDLE. Our tap reads the same instance over plain HTTP (--also-http).

Endpoints and parameters the Python tap calls (read from tap_gitlab/client.py and streams/*.py,
checked against the fake's request log in test_the_python_tap_calls_only_served_endpoints):
  GET /user                                   private_token (credentials check, twice)
  GET /projects/{id or encoded path}          private_token, updated_since
  GET /projects/{id}/repository/commits       private_token, updated_since, per_page, page
  GET /projects/{id}/issues                   private_token, updated_since, per_page, page
  GET /projects/{id}/repository/branches      (branches stream; not selected here)
  GET /projects/{id}/milestones, /users       (project_milestones, users; not selected here)
  GET /groups/{id}, /groups/{id}/milestones   (groups, group_milestones; not selected here)
  `updated_since` is not a GitLab parameter: GitLab (and the fake) ignore it, so the Python
  tap reads every page and filters on its side. Pages follow X-Next-Page.

Fields compared (after the key): see COMPARED. Instants are compared as instants.

Differences, each deliberate or measured here:
| what                         | singer-io tap-gitlab 1.0.1                  | ours (tap-rest gitlab)                      | why |
|------------------------------|---------------------------------------------|---------------------------------------------|-----|
| streams                      | projects, commits, issues, branches,        | projects, commits, issues, merge_requests,  | scope: ours has MRs, notes, releases;      |
|                              | project_milestones, users, groups,          | issue_notes, merge_request_notes, releases  | theirs branches, milestones, users, groups |
|                              | group_milestones                            |                                             |                                             |
| project/child key            | project_id (numeric) added to commits/issues| _sdc_project (full path) added to every     | both identify the project; ours is what    |
|                              | keys [id, project_id]                       | stream; commits [_sdc_project, id]          | the user configured                        |
| instants                     | re-written with microseconds (.000000Z)     | as GitLab sends them (.000Z)                | singer-python Transformer date-time format |
| issues closed_by             | not in its schema (dropped)                 | kept                                        | schema choice                               |
| incremental filter           | updated_since (ignored by GitLab): reads    | updated_after + order_by=updated_at asc:    | theirs re-reads every issue each run       |
|                              | every issue page, keeps >= bookmark         | the API returns only changed issues         |                                             |
| commits incremental          | updated_since ignored: every page again     | since = bookmark minus a week               | theirs re-reads the whole history          |
| bookmarks                    | one per stream, across projects             | one per project                             | theirs can skip a project's older changes  |
| children of an old project   | a project whose updated_at is before the    | every project's lists are asked each run    | theirs relies on projects.updated_at       |
|                              | projects bookmark is skipped with its       |                                             | moving (it does for pushes, not always for |
|                              | commits and issues                          |                                             | issue activity on GitLab.com)              |
| paging                       | X-Next-Page, one page after the other       | Link rel="last": pages 2..N in parallel     | fewer round trips                           |
| auth                         | ?private_token= in every URL                | PRIVATE-TOKEN header                        | a token in URLs ends up in logs            |
| base URL                     | fixed https://gitlab.com/api/v4             | api_url setting (self-managed instances)    |                                             |
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from gitlab_fake import FakeGitlab, PY_STREAMS, STANDARD_MUTATIONS, ours, theirs
from helpers import records, states, venv_bin

PROJECTS = ["acme/tools/app", "acme/web"]

# Fields compared per stream, after the key (instants as instants).
COMPARED = {
    "projects": ["name", "path_with_namespace", "default_branch", "visibility", "created_at",
                 "last_activity_at", "web_url", "namespace"],
    "commits": ["short_id", "title", "message", "author_name", "author_email", "authored_date",
                "committed_date", "parent_ids", "web_url"],
    "issues": ["iid", "project_id", "title", "state", "created_at", "updated_at", "closed_at",
               "labels", "author", "user_notes_count", "web_url"],
}
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def norm(v, field: str = ""):
    """A value as compared: instants as instants, a user as its id and username (the Python
    tap's schema drops `locked`)."""
    if field == "author" and isinstance(v, dict):
        return {"id": v.get("id"), "username": v.get("username")}
    if isinstance(v, str) and INSTANT.match(v):
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def python() -> str:
    return str(venv_bin("singerio-tap-gitlab") / "python")


@pytest.fixture
def fake():
    f = FakeGitlab()
    yield f
    f.close()


def keyed(stream: str, recs: list[dict], project_ids: dict[str, int]) -> dict:
    """Records by a key both taps can compute: (project id, id)."""
    out = {}
    for r in recs:
        pid = r.get("project_id") if "_sdc_project" not in r else project_ids[r["_sdc_project"]]
        if stream == "projects":
            pid = r["id"]
        out[(pid, r["id"])] = r
    return out


def compare(ours_recs: dict[str, list[dict]], theirs_recs: dict[str, list[dict]]) -> None:
    project_ids = {p["path_with_namespace"]: p["id"] for p in ours_recs["projects"]}
    for stream in PY_STREAMS:
        a = keyed(stream, ours_recs.get(stream, []), project_ids)
        b = keyed(stream, theirs_recs.get(stream, []), project_ids)
        assert len(a) == len(ours_recs.get(stream, [])), f"ours: {stream}: a key twice"
        assert a.keys() == b.keys(), f"{stream}: keys differ: ours-only {sorted(a.keys() - b.keys())[:5]}, theirs-only {sorted(b.keys() - a.keys())[:5]}"
        for k in a:
            for field in COMPARED[stream]:
                if field == "project_id":
                    continue
                assert norm(a[k].get(field), field) == norm(b[k].get(field), field), f"{stream} {k}: {field}: ours {a[k].get(field)!r}, theirs {b[k].get(field)!r}"


def upsert(stream: str, *runs, project_ids) -> dict:
    out = {}
    for recs in runs:
        out.update(keyed(stream, recs.get(stream, []), project_ids))
    return out


def test_both_taps_extract_the_same_projects_commits_and_issues(fake, tmp_path):
    mine, _ = ours(fake, tmp_path, PROJECTS)
    other, _ = theirs(fake, tmp_path, python(), PROJECTS)
    ours_recs, theirs_recs = records(mine), records(other)
    assert len(ours_recs["issues"]) == 142 and len(ours_recs["commits"]) == 340
    compare(ours_recs, theirs_recs)


def test_after_changes_both_incremental_runs_complete_the_truth(fake, tmp_path):
    mine, _ = ours(fake, tmp_path, PROJECTS)
    other, _ = theirs(fake, tmp_path, python(), PROJECTS)
    fake.mutate("acme/tools/app", STANDARD_MUTATIONS)
    mine2, _ = ours(fake, tmp_path, PROJECTS, state=states(mine)[-1])
    other2, _ = theirs(fake, tmp_path, python(), PROJECTS, state=states(other)[-1])
    ids = {p["path_with_namespace"]: p["id"] for p in records(mine)["projects"]}
    for stream in ("commits", "issues"):
        truth = {}
        for path in PROJECTS:
            for item in fake.truth(path)[stream]:
                truth[(ids[path], item["id"])] = item
        for name, first, second in (("ours", mine, mine2), ("theirs", other, other2)):
            got = upsert(stream, records(first), records(second), project_ids=ids)
            assert got.keys() == truth.keys(), f"{name}: {stream}: keys differ"
            for k, item in truth.items():
                for field in COMPARED[stream]:
                    if field in item:
                        assert norm(got[k].get(field), field) == norm(item[field], field), f"{name}: {stream} {k}: {field}"
    # Ours asks GitLab for the changes only (3 changed issues, plus each project's last issue
    # again: updated_after is inclusive); theirs reads every issue page again.
    assert len(records(mine2)["issues"]) <= 3 + len(PROJECTS)


def test_the_python_tap_calls_only_served_endpoints(fake, tmp_path):
    theirs(fake, tmp_path, python(), PROJECTS)
    log = fake.stats()["log"]
    shapes = sorted({re.sub(r"/projects/[^/?]+", "/projects/:id", line.split("?")[0]) for line in log})
    params = sorted({p.split("=")[0] for line in log if "?" in line for p in line.split("?", 1)[1].split("&")})
    print("endpoints:", shapes)
    print("parameters:", params)
    assert shapes == [
        "GET /api/v4/projects/:id", "GET /api/v4/projects/:id/issues",
        "GET /api/v4/projects/:id/repository/commits", "GET /api/v4/user",
    ]
    assert params == ["page", "per_page", "private_token", "updated_since"]
