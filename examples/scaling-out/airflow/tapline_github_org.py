"""Airflow: three shards of the pipeline in parallel, then the full-table streams, then dbt.

The workers share nothing but PostgreSQL (`[state] url`), so the tasks may run on any worker or
pod. A shard whose lock is held (an earlier run still going) fails at once with exit code 1;
Airflow's retry picks it up later. Set GITHUB_TOKEN, WAREHOUSE_URL and TAPLINE_STATE_URL as
Airflow connections or variables exported to the environment.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

PIPELINE = "/opt/tapline/examples/scaling-out/tapline.toml"
SHARDS = 3

with DAG(
    dag_id="tapline_github_org",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
) as dag:
    shards = [
        BashOperator(
            task_id=f"shard_{k}_of_{SHARDS}",
            bash_command=f"tapline run -c {PIPELINE} --shard {k}/{SHARDS} --quiet --output json",
        )
        for k in range(1, SHARDS + 1)
    ]
    full_table = BashOperator(
        task_id="full_table_streams",
        bash_command=f"tapline run -c {PIPELINE} --select repositories,releases,stargazers,contributors --quiet",
    )
    dbt = BashOperator(
        task_id="dbt_build",
        bash_command="dbt build --project-dir /opt/tapline/dbt --profiles-dir /opt/tapline/dbt --target postgres",
    )
    shards >> full_table >> dbt
