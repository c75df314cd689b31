{#-
    Fails (one row) when the holiday seed ends less than `days_ahead` days after the newest
    day of `column_name`: the seed must be made again, with more years, before the calendar
    (and a forecast's horizon) runs past it.
-#}
{% test holidays_known_until(model, column_name, holidays, days_ahead) %}
select
    max_day.newest_day,
    max_holiday.last_holiday
from (select max({{ column_name }}) as newest_day from {{ model }}) as max_day
cross join (select max(holiday_date) as last_holiday from {{ holidays }}) as max_holiday
where max_holiday.last_holiday < max_day.newest_day + {{ days_ahead }}
{% endtest %}
