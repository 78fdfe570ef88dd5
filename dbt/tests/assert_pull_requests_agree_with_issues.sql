-- `/pulls` and `/issues` describe the same pull requests: every pull request has its issue
-- (same repo and number, flagged as a pull request) with the same state and merge time.
select p.repo, p.number, p.state, p.merged_at, i.is_pull_request, i.state as issue_state,
    i.merged_at as issue_merged_at
from {{ ref('stg_pull_requests') }} p
left join {{ ref('stg_issues') }} i on i.repo = p.repo and i.number = p.number
where i.id is null
    or i.is_pull_request != 1
    or i.state != p.state
    or coalesce(i.merged_at, '') != coalesce(p.merged_at, '')
