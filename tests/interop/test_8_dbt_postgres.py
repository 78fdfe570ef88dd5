"""(8) The dbt project on PostgreSQL: our tap against fake-github → target-postgres → `dbt build
--target postgres` (dbt-core 1.11.16 with dbt-postgres 1.9.1, dbt/requirements-postgres.txt).

Every model and test of the project builds and passes on PostgreSQL; `commits_by_month` equals
SQL of this test's own on the raw table (and fake-github's truth); and the same tap output loaded
by target-sqlite and built with the default (SQLite) target gives the same rows in every mart,
so the models are portable, not forked.
"""

import json
import os
import shutil
import sqlite3
from datetime import datetime

from helpers import REPO, our, run, run_our_tap, venv_bin, write_json

MARTS = ["commits_by_month", "commits_by_user", "issues_by_month", "issues_by_user", "issue_resolution_by_month"]
KEYS = {
    "commits_by_month": ("repo", "month"),
    "commits_by_user": ("repo", "user_login"),
    "issues_by_month": ("repo", "month"),
    "issues_by_user": ("repo", "user_login"),
    "issue_resolution_by_month": ("repo", "month"),
}


def dbt(project, env, *args):
    return run([venv_bin("dbt-postgres") / "dbt", *args, "--project-dir", project, "--profiles-dir", project],
               env=env, timeout=600)


def canonical(v):
    """Values compared across databases: instants for timestamps, floats for numbers."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return round(float(v), 6)
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] in "T ":
        try:
            return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return v
    return v


def keyed(rows, key):
    return {tuple(r[k] for k in key): {c: canonical(x) for c, x in r.items()} for r in rows}


def test_dbt_build_on_postgres_matches_sqlite(tmp_path, fake_github, postgres):
    fake = fake_github()
    run_our_tap(tmp_path, fake)
    tap_out = tmp_path / "tap.jsonl"
    project = tmp_path / "dbt"
    shutil.copytree(REPO / "dbt", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    base_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}

    # PostgreSQL: load, then build every model and test.
    db = postgres.database()
    cfg = write_json(tmp_path / "pg.json", {"host": str(postgres.dir), "user": "postgres", "database": db, "schema": "github"})
    run([our("target-postgres"), "--config", cfg, "--input", tap_out])
    pg_env = {**base_env, "TAPLINE_PG_HOST": str(postgres.dir), "TAPLINE_PG_USER": "postgres",
              "TAPLINE_PG_DATABASE": db, "TAPLINE_PG_SCHEMA": "github"}
    out = dbt(project, pg_env, "build", "--target", "postgres").stdout
    assert "Completed successfully" in out, out[-3000:]

    # commits_by_month against SQL of our own on the raw table, and the truth's commit counts.
    own = json.loads(postgres.sql(db, """
        SELECT coalesce(json_agg(t), '[]') FROM (
          SELECT _sdc_repository AS repo,
                 to_char(commit__committer__date::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
                 count(*) AS commits,
                 count(DISTINCT coalesce(nullif(author__login, ''), commit__author__email)) AS distinct_authors,
                 min(commit__committer__date) AS first_commit_at,
                 max(commit__committer__date) AS last_commit_at
          FROM github.commits WHERE _sdc_deleted_at IS NULL GROUP BY 1, 2) t"""))
    mart = postgres.rows(db, "github_dbt", "commits_by_month")
    assert own, "no commits loaded"
    got = keyed(mart, KEYS["commits_by_month"])
    for k, row in keyed(own, KEYS["commits_by_month"]).items():
        assert k in got, f"month {k} missing from commits_by_month"
        for c, v in row.items():
            assert got[k][c] == v, f"commits_by_month {k} {c}: mart {got[k][c]}, own SQL {v}"
    assert len(got) == len(own)
    for repo in ("octo/app", "octo/lib"):
        truth = fake.truth(repo)
        assert sum(r["commits"] for r in mart if r["repo"] == repo) == len(truth["commits"]), repo

    # SQLite: the same input and models give the same marts.
    sqlite_db = tmp_path / "raw" / "github.db"
    schema_dir = tmp_path / "dbt_schemas"
    schema_dir.mkdir()
    scfg = write_json(tmp_path / "sqlite.json", {"database": str(sqlite_db)})
    run([our("target-sqlite"), "--config", scfg, "--input", tap_out])
    sl_env = {**base_env, "TAPLINE_DATABASE": str(sqlite_db), "TAPLINE_DBT_SCHEMA_DIR": str(schema_dir)}
    out = dbt(project, sl_env, "build").stdout
    assert "Completed successfully" in out, out[-3000:]
    con = sqlite3.connect(str(schema_dir / "main_dbt.db"))
    con.row_factory = sqlite3.Row
    for name in MARTS:
        sl = [dict(r) for r in con.execute(f'SELECT * FROM "{name}"')]
        pg = postgres.rows(db, "github_dbt", name)
        assert sl, f"{name} is empty"
        assert keyed(pg, KEYS[name]) == keyed(sl, KEYS[name]), f"{name} differs between PostgreSQL and SQLite"
