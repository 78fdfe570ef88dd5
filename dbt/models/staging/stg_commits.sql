-- One row per commit of the default branch, with the author resolved to a login when GitHub
-- links the e-mail to an account, and to the e-mail otherwise.
with source as (
    select * from {{ source('github', 'commits') }}
    where {{ live_rows_filter(source('github', 'commits')) }}
)

select
    _sdc_repository as repo,
    sha,
    coalesce(nullif(author__login, ''), commit__author__email) as author_login,
    nullif(author__login, '') as author_account_login,
    commit__author__name as author_name,
    commit__author__email as author_email,
    nullif(committer__login, '') as committer_login,
    commit__author__date as authored_at,
    commit__committer__date as committed_at,
    {{ month_of('commit__committer__date') }} as month,
    {{ first_line('commit__message') }} as message_headline,
    coalesce({{ json_array_size('parents') }}, 0) as parent_count,
    html_url
from source
