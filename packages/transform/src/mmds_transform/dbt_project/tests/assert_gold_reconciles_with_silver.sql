-- Attached to the fact as one Dagster asset check (it reads several models: dagster-dbt needs the
-- model named).
{{ config(meta={'dagster': {'ref': {'name': 'fct_service_requests'}}}) }}

-- Counts in gold agree with silver: every request silver does not exclude is once in the fact,
-- every opening and every usable closing once in the daily aggregate, every usable closing once
-- in the resolution times, the latest backlog of every area and type adds up to the requests
-- still open, and every flagged request is in the quarantine. Each failing check is one row.
with

silver as (

    select
        count(*) - coalesce(sum(case when is_excluded_from_fact then 1 else 0 end), 0) as requests,
        coalesce(sum(
            case
                when
                    not is_excluded_from_fact and not is_open and closed_date is not null
                    and not has_unusable_close_date
                    then 1
                else 0
            end
        ), 0) as closed,
        coalesce(sum(case when not is_excluded_from_fact and is_open then 1 else 0 end), 0) as still_open,
        count(quality_reasons) as flagged
    from {{ ref('int_service_requests_flagged') }}

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

quarantine as (

    select count(distinct service_request_id) as flagged from {{ ref('fct_quarantined_requests') }}

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
        silver.requests as expected,
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
    union all
    select
        'fct_quarantined_requests flagged requests' as check_name,
        silver.flagged as expected,
        quarantine.flagged as actual
    from silver cross join quarantine

)

select * from checks
where expected <> actual
