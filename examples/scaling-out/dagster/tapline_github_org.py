"""Dagster: the same pipeline as one job: three shard ops in parallel, the full-table streams,
then dbt. Each op shells out to `tapline`, whose exit code says how it went (0 ok, 1 load
failed or lock held, 2 config error, 3 dbt failed, 130 interrupted).
"""

import subprocess

from dagster import In, Nothing, OpExecutionContext, ScheduleDefinition, job, op

PIPELINE = "/opt/tapline/examples/scaling-out/tapline.toml"
SHARDS = 3


def tapline(context: OpExecutionContext, *args: str) -> None:
    context.log.info("tapline %s", " ".join(args))
    subprocess.run(["tapline", *args, "-c", PIPELINE, "--quiet"], check=True)


def shard_op(k: int):
    @op(name=f"shard_{k}_of_{SHARDS}")
    def shard(context: OpExecutionContext) -> Nothing:
        tapline(context, "run", "--shard", f"{k}/{SHARDS}")

    return shard


@op(ins={"shards": In(Nothing)})
def full_table_streams(context: OpExecutionContext) -> Nothing:
    tapline(context, "run", "--select", "repositories,releases,stargazers,contributors")


@op(ins={"loaded": In(Nothing)})
def dbt_build(context: OpExecutionContext) -> None:
    subprocess.run(
        ["dbt", "build", "--project-dir", "/opt/tapline/dbt", "--profiles-dir", "/opt/tapline/dbt",
         "--target", "postgres"],
        check=True,
    )


@job
def tapline_github_org():
    loaded = [shard_op(k)() for k in range(1, SHARDS + 1)]
    dbt_build(loaded=full_table_streams(shards=loaded))


hourly = ScheduleDefinition(job=tapline_github_org, cron_schedule="0 * * * *")
