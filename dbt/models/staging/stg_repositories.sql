-- The extracted repositories, one row each.
with source as (
    select * from {{ source('github', 'repositories') }}
    where {{ live_rows_filter(source('github', 'repositories')) }}
)

select
    _sdc_repository as repo,
    id,
    full_name,
    name,
    owner__login as owner_login,
    description,
    default_branch,
    language,
    stargazers_count,
    forks_count,
    open_issues_count,
    created_at,
    pushed_at
from source
