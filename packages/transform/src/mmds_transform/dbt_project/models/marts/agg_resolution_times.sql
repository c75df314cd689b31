-- Per month of closing and request type: how many requests closed, and the median and 90th
-- percentile of days to close. Requests closed before they opened (a source quirk) count as
-- closed but are left out of the durations.
with

closed_requests as (

    select
        {{ dbt.date_trunc('month', 'closed_date') }} as month_start,
        request_type_id,
        case when not is_closed_before_opened then days_to_close end as days_to_close
    from {{ ref('fct_service_requests') }}
    where not is_open and closed_date is not null

)

select
    cast(month_start as date) as month_start,
    request_type_id,
    cast(count(*) as bigint) as closed_count,
    cast({{ percentile_cont('days_to_close', 0.5) }} as double precision) as median_days_to_close,
    cast({{ percentile_cont('days_to_close', 0.9) }} as double precision) as p90_days_to_close
from closed_requests
group by 1, 2
