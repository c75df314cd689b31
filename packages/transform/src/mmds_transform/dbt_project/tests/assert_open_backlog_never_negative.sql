-- The open backlog counts requests; it can never be below zero.
select
    date_local,
    local_area_id,
    request_type_id,
    open_backlog_count
from {{ ref('agg_requests_daily') }}
where open_backlog_count < 0
