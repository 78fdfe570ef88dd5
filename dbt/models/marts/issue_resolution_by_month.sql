-- How long issues (not pull requests) stay open, by the month they were closed: median and
-- mean hours from creation to closing, and the slowest one. A rising median is the early sign
-- of a backlog.
with closed as (
    select
        repo,
        closed_month as month,
        {{ hours_between('created_at', 'closed_at') }} as hours_to_close
    from {{ ref('stg_issues') }}
    where is_pull_request = 0 and closed_at is not null
),

ranked as (
    select
        repo,
        month,
        hours_to_close,
        row_number() over (partition by repo, month order by hours_to_close) as position,
        count(*) over (partition by repo, month) as closed_in_month
    from closed
)

select
    repo,
    month,
    max(closed_in_month) as issues_closed,
    -- the middle value, or the mean of the two middle values for an even count
    round(avg(case
        when position in ((closed_in_month + 1) / 2, (closed_in_month + 2) / 2)
            then hours_to_close
    end), 2) as median_hours_to_close,
    round(avg(hours_to_close), 2) as mean_hours_to_close,
    round(max(hours_to_close), 2) as max_hours_to_close
from ranked
group by repo, month
