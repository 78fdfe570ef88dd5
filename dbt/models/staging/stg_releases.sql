-- Releases, drafts and pre-releases flagged.
with source as (
    select * from {{ source('github', 'releases') }}
    where {{ live_rows_filter(source('github', 'releases')) }}
)

select
    _sdc_repository as repo,
    id,
    tag_name,
    name,
    author__login as author_login,
    {{ as_bool('draft') }} as is_draft,
    {{ as_bool('prerelease') }} as is_prerelease,
    created_at,
    published_at,
    {{ month_of('coalesce(published_at, created_at)') }} as month
from source
