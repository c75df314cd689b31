{#- Fails on every instant or date later than now (plus an optional grace in hours). -#}
{% test not_in_future(model, column_name, grace_hours=0) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }}
    > {{ dbt.dateadd('hour', grace_hours, dbt.current_timestamp()) }}
{% endtest %}
