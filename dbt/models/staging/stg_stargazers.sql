-- Who starred each repository, and when.
with source as (
    select * from {{ source('github', 'stargazers') }}
    where {{ live_rows_filter(source('github', 'stargazers')) }}
)

select
    _sdc_repository as repo,
    user_id,
    user__login as user_login,
    starred_at,
    {{ month_of('starred_at') }} as month
from source
