-- Comments on issues and pull requests, with the number of the issue they belong to.
with source as (
    select * from {{ source('github', 'issue_comments') }}
    where {{ live_rows_filter(source('github', 'issue_comments')) }}
)

select
    _sdc_repository as repo,
    id,
    {{ number_from_url('issue_url') }} as issue_number,
    user__login as author_login,
    created_at,
    updated_at,
    {{ month_of('created_at') }} as month,
    length(body) as body_length
from source
