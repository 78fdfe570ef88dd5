-- Per repository, issue_resolution_by_month counts every closed plain issue once, and the
-- median of each month lies between its fastest and slowest closing.
with staged as (
    select repo, count(*) as issues_closed
    from {{ ref('stg_issues') }}
    where is_pull_request = 0 and closed_at is not null
    group by repo
),
mart as (
    select repo, sum(issues_closed) as issues_closed
    from {{ ref('issue_resolution_by_month') }}
    group by repo
)
select s.repo, s.issues_closed, m.issues_closed as in_mart
from staged s left join mart m on m.repo = s.repo
where m.repo is null or m.issues_closed != s.issues_closed
union all
select repo, null, issues_closed
from {{ ref('issue_resolution_by_month') }}
where median_hours_to_close > max_hours_to_close
