-- Every comment belongs to an issue or pull request of the same repository that was loaded.
select c.repo, c.id, c.issue_number
from {{ ref('stg_issue_comments') }} c
left join {{ ref('stg_issues') }} i on i.repo = c.repo and i.number = c.issue_number
where i.id is null
