-- Accounts GitHub credits with commits, and how many.
with source as (
    select * from {{ source('github', 'contributors') }}
    where {{ live_rows_filter(source('github', 'contributors')) }}
)

select
    _sdc_repository as repo,
    user_id,
    login,
    contributions,
    type as account_type
from source
