{#-
    dbt-duckdb stamps snapshots with a naive TIMESTAMP, while every instant here is a
    TIMESTAMPTZ in UTC (the session is pinned to UTC): keep snapshot times zone-aware too.
-#}
{% macro duckdb__snapshot_get_time() -%}
    current_timestamp
{%- endmacro %}
