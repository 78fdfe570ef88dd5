-- Per repository, commits_by_user adds up to the staged commits, and every author is counted once.
with staged as (
    select repo, count(*) as commits, count(distinct author_login) as authors
    from {{ ref('stg_commits') }} group by repo
),
mart as (
    select repo, sum(commits) as commits, count(*) as authors
    from {{ ref('commits_by_user') }} group by repo
)
select s.repo, s.commits, m.commits as mart_commits, s.authors, m.authors as mart_authors
from staged s left join mart m on m.repo = s.repo
where m.repo is null or m.commits != s.commits or m.authors != s.authors
union all
select m.repo, null, m.commits, null, m.authors
from mart m
where m.repo not in (select repo from staged)
