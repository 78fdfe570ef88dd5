-- Per repository, issues_by_month adds up to the staged issues and pull requests.
with staged as (
    select
        repo,
        sum(case when is_pull_request = 0 then 1 else 0 end) as issues_opened,
        sum(case when is_pull_request = 0 and closed_at is not null then 1 else 0 end) as issues_closed,
        sum(is_pull_request) as prs_opened,
        sum(case when is_pull_request = 1 and merged_at is not null then 1 else 0 end) as prs_merged
    from {{ ref('stg_issues') }}
    group by repo
),
mart as (
    select
        repo,
        sum(issues_opened) as issues_opened,
        sum(issues_closed) as issues_closed,
        sum(prs_opened) as prs_opened,
        sum(prs_merged) as prs_merged
    from {{ ref('issues_by_month') }}
    group by repo
)
select s.*
from staged s left join mart m on m.repo = s.repo
where m.repo is null
    or m.issues_opened != s.issues_opened
    or m.issues_closed != s.issues_closed
    or m.prs_opened != s.prs_opened
    or m.prs_merged != s.prs_merged
union all
select m.*
from mart m
where m.repo not in (select repo from staged)
