-- Pull requests as `/pulls` lists them (their own id; `number` joins them to stg_issues).
with source as (
    select * from {{ source('github', 'pull_requests') }}
    where {{ live_rows_filter(source('github', 'pull_requests')) }}
)

select
    _sdc_repository as repo,
    id,
    number,
    title,
    user__login as author_login,
    state,
    {{ as_bool('draft') }} as is_draft,
    case when merged_at is not null then 1 else 0 end as is_merged,
    base__ref as base_ref,
    head__ref as head_ref,
    created_at,
    updated_at,
    closed_at,
    merged_at,
    {{ month_of('created_at') }} as created_month,
    {{ month_of('merged_at') }} as merged_month
from source
