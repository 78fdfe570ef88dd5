-- Per repository, issues_by_user adds up to the staged issues, pull requests and comments.
with staged as (
    select repo,
        sum(case when is_pull_request = 0 then 1 else 0 end) as issues_opened,
        sum(is_pull_request) as prs_opened,
        0 as comments_written
    from {{ ref('stg_issues') }}
    group by repo
    union all
    select repo, 0, 0, count(*)
    from {{ ref('stg_issue_comments') }}
    group by repo
),
staged_totals as (
    select repo, sum(issues_opened) as issues_opened, sum(prs_opened) as prs_opened,
        sum(comments_written) as comments_written
    from staged group by repo
),
mart as (
    select repo, sum(issues_opened) as issues_opened, sum(prs_opened) as prs_opened,
        sum(comments_written) as comments_written
    from {{ ref('issues_by_user') }} group by repo
)
select s.*
from staged_totals s left join mart m on m.repo = s.repo
where m.repo is null
    or m.issues_opened != s.issues_opened
    or m.prs_opened != s.prs_opened
    or m.comments_written != s.comments_written
union all
select m.*
from mart m
where m.repo not in (select repo from staged_totals)
