-- Attached to the fact as one Dagster asset check (it reads several models: dagster-dbt needs the
-- model named).
{{ config(meta={'dagster': {'ref': {'name': 'fct_service_requests'}}}) }}

-- Counts in gold agree with silver: every request once in the fact, every opening and closing
-- once in the daily aggregate, every closing once in the resolution times, and the latest
-- backlog of every area and type adding up to the requests still open. Each failing check is one row.
with

silver as (

    select
        count(*) as requests,
        sum(case when opened_date_local is not null then 1 else 0 end) as opened,
        sum(case when is_open = false and closed_date is not null then 1 else 0 end) as closed,
        sum(
            case when coalesce(is_open, true) and opened_date_local is not null then 1 else 0 end
        ) as still_open
    from {{ ref('stg_portal__service_requests') }}

),

fact as (

    select count(*) as requests from {{ ref('fct_service_requests') }}

),

daily as (

    select
        coalesce(sum(opened_count), 0) as opened,
        coalesce(sum(closed_count), 0) as closed
    from {{ ref('agg_requests_daily') }}

),

latest_backlog as (

    select
        open_backlog_count,
        row_number() over (
            partition by local_area_id, request_type_id
            order by date_local desc
        ) as recency
    from {{ ref('agg_requests_daily') }}

),

backlog as (

    select coalesce(sum(open_backlog_count), 0) as still_open
    from latest_backlog
    where recency = 1

),

resolution as (

    select coalesce(sum(closed_count), 0) as closed from {{ ref('agg_resolution_times') }}

),

checks as (

    select
        'fct_service_requests rows' as check_name,
        silver.requests as expected,
        fact.requests as actual
    from silver cross join fact
    union all
    select
        'agg_requests_daily opened_count' as check_name,
        silver.opened as expected,
        daily.opened as actual
    from silver cross join daily
    union all
    select
        'agg_requests_daily closed_count' as check_name,
        silver.closed as expected,
        daily.closed as actual
    from silver cross join daily
    union all
    select
        'agg_requests_daily latest backlog' as check_name,
        silver.still_open as expected,
        backlog.still_open as actual
    from silver cross join backlog
    union all
    select
        'agg_resolution_times closed_count' as check_name,
        silver.closed as expected,
        resolution.closed as actual
    from silver cross join resolution

)

select * from checks
where expected <> actual
