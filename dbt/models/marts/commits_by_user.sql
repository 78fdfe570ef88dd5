-- Commits per repository and author (login, or e-mail for commits not linked to an account).
select
    repo,
    author_login as user_login,
    max(case when author_account_login is not null then 1 else 0 end) as is_github_account,
    count(*) as commits,
    min(committed_at) as first_commit_at,
    max(committed_at) as last_commit_at,
    count(distinct month) as active_months
from {{ ref('stg_commits') }}
group by repo, author_login
