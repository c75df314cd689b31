-- Every local calendar day from the first opening or closing to the as-of day of the data (the
-- newest local date seen in opened, closed or modified), so daily aggregates have no gaps.
{%- set requests = ref('int_service_requests_enriched') %}
{%- set first_day -%}
    (select coalesce(min(first_date), current_date) from (
        select min(opened_date_local) as first_date from {{ requests }}
        union all
        select min(closed_date) as first_date from {{ requests }}
    ) as oldest_dates)
{%- endset %}
{%- set as_of_day -%}
    (select coalesce(max(as_of_date), current_date) from (
        select max(opened_date_local) as as_of_date from {{ requests }}
        union all
        select max(closed_date) as as_of_date from {{ requests }}
        union all
        select max({{ local_date('last_modified_at') }}) as as_of_date from {{ requests }}
    ) as newest_dates)
{%- endset %}

with

spine as (

    {#- dbt's date_spine excludes its end date. #}
    {{ dbt.date_spine('day', first_day, dbt.dateadd('day', 1, as_of_day)) }}

)

select
    cast(date_day as date) as calendar_date,
    cast(date_day as date) = {{ as_of_day }} as is_as_of_date
from spine
