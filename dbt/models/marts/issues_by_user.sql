-- What each person did in the issue tracker of a repository: issues and pull requests opened,
-- pull requests merged, comments written.
with activity as (
    select
        repo,
        author_login as user_login,
        case when is_pull_request = 0 then 1 else 0 end as issues_opened,
        is_pull_request as prs_opened,
        case when is_pull_request = 1 and merged_at is not null then 1 else 0 end as prs_merged,
        0 as comments_written
    from {{ ref('stg_issues') }}

    union all

    select repo, author_login, 0, 0, 0, 1
    from {{ ref('stg_issue_comments') }}
)

select
    repo,
    user_login,
    sum(issues_opened) as issues_opened,
    sum(prs_opened) as prs_opened,
    sum(prs_merged) as prs_merged,
    sum(comments_written) as comments_written
from activity
group by repo, user_login
