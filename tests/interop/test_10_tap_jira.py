"""(10) singer-io tap-jira 2.6.0 (the newest on PyPI) and ours (`tap-rest --definitions jira`)
extract the same fake-jira; for every stream both have, the key and the fields of COMPARED are
equal, on a full run and after changes on an incremental one.

What tap-jira 2.6.0 calls (read in its installed source, tap_jira/http.py, context.py and
streams.py; the fake logs them and test (a) requires exactly these):

| request                                                                 | what for |
|-------------------------------------------------------------------------|----------|
| GET  /rest/api/2/serverInfo                                             | credentials check (each start): Cloud or Server |
| GET  /rest/api/2/project/search?expand=description,lead,url,projectKeys&maxResults=50&startAt=N | projects, until `isLast` |
| GET  /rest/api/2/group/member?groupname=G&maxResults=2&includeInactiveUsers=True&startAt=N | users, for G in jira-administrators, jira-software-users, jira-core-users, jira-users, users (config `groups` replaces them); a 404 skips G |
| GET  /rest/api/2/myself                                                 | the account's time zone, for the JQL |
| GET  /rest/api/2/search/jql?fields=*all&expand=changelog,transitions&validateQuery=strict&jql=updated >= 'yyyy-MM-dd HH:mm' order by updated asc (&maxResults=1 once, as a probe; &nextPageToken=T) | issues; their comments, changelogs and transitions come from inside each issue. On a 404 it would fall back to /rest/api/2/search, which Jira Cloud removed (410) |
| GET  /rest/api/2/worklog/updated?since=MS                               | ids of the worklogs updated since the bookmark |
| POST /rest/api/2/worklog/list {"ids": [...]}                            | those worklogs |

Not selected here (no counterpart in ours): /project/{id}/version, /project/{id}/component,
/project/type, /projectCategory, /resolution, /role, and the changelogs and transitions streams.
tap-jira 2.6.0 does not use the removed /rest/api/3/search: the v2 /search/jql it calls is what
Jira Cloud serves today, so it is compared whole.

Differences (theirs or ours, and why); none is in COMPARED except through the normalisation said:

| stream         | field                     | theirs (tap-jira)                      | ours                                   | why |
|----------------|---------------------------|----------------------------------------|----------------------------------------|-----|
| all            | dates (created, updated, started, custom date-times) | UTC, `2025-03-01T20:42:47.000000Z` | as Jira sends them, `2025-03-01T12:42:47.000-0800` (the account's zone) | theirs: singer-python rewrites `date-time` fields; ours keeps the API's text. Compared as instants |
| all            | `self` links              | /rest/api/2/…                          | /rest/api/3/…                          | API version |
| issues, comments, worklogs | description, `body`, worklog `comment` | plain text (v2)          | Atlassian Document Format (v3)         | API version; compared as the text inside the document |
| issues         | (bookmark)                | `updated` of the last page, no lookback| greatest `updated` seen, one-hour lookback | ours reads again an hour each run: an update that reaches the eventually consistent search late is not lost |
| projects       | `style`, `isPrivate`      | dropped                                | kept                                   | theirs: not in its schema |
| users          | source                    | members of five named groups (404 skips a group) | /rest/api/3/users/search: every account | theirs misses accounts outside those groups (none in the fake) |
| users, authors | `locale`, authors' `accountType` | dropped                         | kept                                   | theirs: not in its schema |
| issue_comments | source                    | the comments embedded in each issue of the search | the same when the issue embeds all of them, else /issue/{id}/comment, paged | theirs misses the comments past those embedded (fake-jira embeds 20) |
| worklogs       | stream name, source       | `worklogs`, from /worklog/updated + /worklog/list (every worklog since the start date) | `issue_worklogs`: those each issue read embeds (Jira: up to 20), else /issue/{id}/worklog, paged | theirs is a global feed (it writes the worklog at each 1,000-id page boundary twice: `since` is inclusive); ours follows the issues (and a `projects` restriction) |
| issues         | changelogs, transitions   | streams of their own                   | not extracted                          | ours: not in the connector |
| fields         | stream                    | none                                   | `fields` (/rest/api/3/field)           | ours: the custom fields' names and types |
"""

from datetime import datetime

from jira_peer import FakeJira, last_state, our_tap, peer_tap
from helpers import records

# (our stream, their stream, key, compared fields: dotted paths inside the record).
COMPARED = [
    ("projects", "projects", "id", ["key", "name", "projectTypeKey", "simplified"]),
    ("users", "users", "accountId", ["displayName", "active", "emailAddress", "accountType", "timeZone"]),
    ("issues", "issues", "id", [
        "key", "fields.summary", "fields.status.name", "fields.issuetype.name", "fields.priority.name",
        "fields.project.key", "fields.assignee.accountId", "fields.reporter.accountId", "fields.labels",
        "fields.created", "fields.updated", "fields.description",
        "fields.customfield_10001", "fields.customfield_10002.value", "fields.customfield_10003",
    ]),
    ("issue_comments", "issue_comments", "id", ["issueId", "author.accountId", "body", "created", "updated"]),
    ("issue_worklogs", "worklogs", "id", [
        "issueId", "author.accountId", "comment", "started", "created", "updated", "timeSpent", "timeSpentSeconds",
    ]),
]
DATES = {"fields.created", "fields.updated", "fields.customfield_10003", "created", "updated", "started"}
TEXTS = {"fields.description", "body", "comment"}

EXPECTED_PEER_CALLS = {
    "GET /rest/api/2/serverInfo", "GET /rest/api/2/project/search", "GET /rest/api/2/group/member",
    "GET /rest/api/2/myself", "GET /rest/api/2/search/jql", "GET /rest/api/2/worklog/updated",
    "POST /rest/api/2/worklog/list",
}
# No issue of the fake has more than the 20 comments or worklogs an issue embeds, so ours asks
# no per-issue list (/rest/api/3/issue/{id}/comment or /worklog) here.
EXPECTED_OUR_CALLS = {
    "GET /rest/api/3/myself", "GET /rest/api/3/field", "GET /rest/api/3/search/jql",
    "GET /rest/api/3/project/search", "GET /rest/api/3/users/search",
}


def at(record: dict, path: str):
    for part in path.split("."):
        if not isinstance(record, dict):
            return None
        record = record.get(part)
    return record


def text(value):
    """Plain text, or the text inside an Atlassian Document Format document."""
    if isinstance(value, dict):
        return " ".join(filter(None, (text(c) for c in [value.get("text")] + value.get("content", []))))
    return value


def normal(path: str, value):
    if value is None:
        return None
    if path in DATES:
        v = value.replace("Z", "+00:00")
        if len(v) > 5 and v[-5] in "+-" and v[-3] != ":":
            v = v[:-2] + ":" + v[-2:]
        return datetime.fromisoformat(v)
    if path in TEXTS:
        return text(value)
    return value


def table(runs, stream: str, key: str) -> dict:
    rows = {}
    for msgs in runs:
        for r in records(msgs).get(stream, []):
            rows[r[key]] = r
    return rows


def assert_same(ours_runs, theirs_runs):
    for ours, theirs, key, fields in COMPARED:
        a, b = table(ours_runs, ours, key), table(theirs_runs, theirs, key)
        assert a, f"{ours}: no records"
        assert set(a) == set(b), f"{ours} vs {theirs}: keys only ours {sorted(set(a) - set(b))[:5]}, only theirs {sorted(set(b) - set(a))[:5]}"
        for k in a:
            for f in fields:
                assert normal(f, at(a[k], f)) == normal(f, at(b[k], f)), (
                    f"{ours} {key}={k} {f}: ours {at(a[k], f)!r}, theirs {at(b[k], f)!r}"
                )


def calls(lines: list[str]) -> set[str]:
    out = set()
    for line in lines:
        method, target, _status = line.split(" ")
        path = target.split("?")[0]
        parts = path.split("/")
        if len(parts) > 5 and parts[4] == "issue":
            parts[5] = "{id}"
        out.add(f"{method} {'/'.join(parts)}")
    return out


def test_both_taps_extract_the_same_fake_jira(tmp_path):
    fake = FakeJira(tmp_path)
    try:
        theirs = peer_tap(tmp_path, fake)
        peer_lines = fake.requests()
        ours = our_tap(tmp_path, fake)
        our_lines = fake.requests()[len(peer_lines):]
    finally:
        fake.close()
    print("tap-jira 2.6.0 called:", *peer_lines, sep="\n  ")
    print("ours called:", *sorted(calls(our_lines)), sep="\n  ")
    assert calls(peer_lines) == EXPECTED_PEER_CALLS
    assert calls(our_lines) == EXPECTED_OUR_CALLS
    assert_same([ours], [theirs])
    assert len(records(ours)["issues"]) == 120


def test_both_taps_follow_changes_incrementally(tmp_path):
    fake = FakeJira(tmp_path)
    try:
        theirs = peer_tap(tmp_path, fake)
        ours = our_tap(tmp_path, fake)
        truth = fake.truth()
        fake.mutate(
            {"kind": "update_issue", "key": truth["issues"][5]["key"]},
            {"kind": "add_comment", "key": truth["issues"][6]["key"]},
            {"kind": "add_worklog", "key": truth["issues"][7]["key"]},
            {"kind": "create_issue", "project": "GAMMA"},
        )
        theirs2 = peer_tap(tmp_path, fake, last_state(theirs))
        ours2 = our_tap(tmp_path, fake, last_state(ours))
    finally:
        fake.close()
    changed = {truth["issues"][n]["id"] for n in (5, 6, 7)}
    for run in (theirs2, ours2):
        assert changed <= {r["id"] for r in records(run).get("issues", [])}
    assert_same([ours, ours2], [theirs, theirs2])
