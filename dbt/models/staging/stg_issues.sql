-- Issues and pull requests as `/issues` lists them (pull requests have `pull_request__url`).
with source as (
    select * from {{ source('github', 'issues') }}
    where {{ live_rows_filter(source('github', 'issues')) }}
)

select
    _sdc_repository as repo,
    id,
    number,
    case when pull_request__url is not null then 1 else 0 end as is_pull_request,
    title,
    user__login as author_login,
    state,
    state_reason,
    comments,
    coalesce({{ json_array_size('labels') }}, 0) as label_count,
    created_at,
    updated_at,
    closed_at,
    pull_request__merged_at as merged_at,
    {{ month_of('created_at') }} as created_month,
    {{ month_of('closed_at') }} as closed_month,
    {{ month_of('pull_request__merged_at') }} as merged_month
from source
