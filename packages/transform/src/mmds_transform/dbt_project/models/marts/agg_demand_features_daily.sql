{%- set max_calendar_days = 16384 -%}

-- The forecast's features: requests opened per local (America/Vancouver) day, local area and
-- demand group, on a complete calendar (a day without requests is a zero), with calendar
-- features. Every series (area x group) spans the same days: from the first to the last
-- opening day in the fact. A request's demand group is the group of its type's department
-- (dim_request_types, seed departments); types of an unknown department are Other.
with

requests as (

    select
        fact.opened_date_local as date_local,
        fact.local_area_id,
        coalesce(departments.demand_group, '{{ var("other_member") }}') as demand_group
    from {{ ref('fct_service_requests') }} as fact
    inner join {{ ref('dim_request_types') }} as request_types
        on fact.request_type_id = request_types.request_type_id
    left join {{ ref('departments') }} as departments
        on request_types.department = departments.department

),

daily_counts as (

    select
        date_local,
        local_area_id,
        demand_group,
        count(*) as requests_opened
    from requests
    group by date_local, local_area_id, demand_group

),

bounds as (

    select
        min(date_local) as first_day,
        max(date_local) as last_day
    from requests

),

-- The newest change in the data: the local day holding it (and any later) is not over yet.
data_until as (

    select max({{ local_date('last_modified_at') }}) as partial_from
    from {{ ref('fct_service_requests') }}

),

day_numbers as (

    {{ dbt.generate_series(max_calendar_days) }}

),

calendar as (

    select bounds.first_day + cast(day_numbers.generated_number - 1 as integer) as date_local
    from bounds
    cross join day_numbers
    where day_numbers.generated_number - 1 <= bounds.last_day - bounds.first_day

),

areas as (

    select local_area_id from {{ ref('dim_local_areas') }}

),

demand_groups as (

    select demand_group from {{ ref('departments') }}
    union
    select '{{ var("other_member") }}' as demand_group

),

series_days as (

    select
        calendar.date_local,
        areas.local_area_id,
        demand_groups.demand_group
    from calendar
    cross join areas
    cross join demand_groups

)

select
    series_days.date_local,
    cast(series_days.local_area_id as integer) as local_area_id,
    cast(series_days.demand_group as {{ dbt.type_string() }}) as demand_group,
    cast(coalesce(daily_counts.requests_opened, 0) as bigint) as requests_opened,
    cast(extract(isodow from series_days.date_local) as integer) as day_of_week,
    cast(extract(week from series_days.date_local) as integer) as week_of_year,
    extract(isodow from series_days.date_local) >= 6 as is_weekend,
    holidays.holiday_date is not null as is_holiday,
    cast(holidays.holiday_name as {{ dbt.type_string() }}) as holiday_name,
    coalesce(series_days.date_local < data_until.partial_from, false) as is_complete_day
from series_days
cross join data_until
left join daily_counts
    on
        series_days.date_local = daily_counts.date_local
        and series_days.local_area_id = daily_counts.local_area_id
        and series_days.demand_group = daily_counts.demand_group
left join {{ ref('bc_statutory_holidays') }} as holidays
    on series_days.date_local = holidays.holiday_date
