-- Issue and pull request flow per repository and month: each event counted in the month it
-- happened (opened: created_at, closed: closed_at, merged: merged_at). Everything comes from
-- `/issues`, where pull requests appear with their merge time.
with events as (
    select
        repo,
        created_month as month,
        case when is_pull_request = 1 then 'pr_opened' else 'issue_opened' end as event
    from {{ ref('stg_issues') }}

    union all

    select repo, closed_month, 'issue_closed'
    from {{ ref('stg_issues') }}
    where is_pull_request = 0 and closed_at is not null

    union all

    select repo, merged_month, 'pr_merged'
    from {{ ref('stg_issues') }}
    where is_pull_request = 1 and merged_at is not null
)

select
    repo,
    month,
    sum(case when event = 'issue_opened' then 1 else 0 end) as issues_opened,
    sum(case when event = 'issue_closed' then 1 else 0 end) as issues_closed,
    sum(case when event = 'pr_opened' then 1 else 0 end) as prs_opened,
    sum(case when event = 'pr_merged' then 1 else 0 end) as prs_merged
from events
group by repo, month
