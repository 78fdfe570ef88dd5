-- Per repository, commits_by_month adds up to the staged commits (a row is a mismatch).
with staged as (
    select repo, count(*) as commits from {{ ref('stg_commits') }} group by repo
),
mart as (
    select repo, sum(commits) as commits from {{ ref('commits_by_month') }} group by repo
)
select s.repo, s.commits as staged, m.commits as in_mart
from staged s left join mart m on m.repo = s.repo
where m.commits is null or m.commits != s.commits
union all
select m.repo, null, m.commits
from mart m
where m.repo not in (select repo from staged)
