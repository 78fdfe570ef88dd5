-- Commits per repository and month of the committer date, with how many people wrote them.
select
    repo,
    month,
    count(*) as commits,
    count(distinct author_login) as distinct_authors,
    sum(case when parent_count > 1 then 1 else 0 end) as merge_commits,
    min(committed_at) as first_commit_at,
    max(committed_at) as last_commit_at
from {{ ref('stg_commits') }}
group by repo, month
