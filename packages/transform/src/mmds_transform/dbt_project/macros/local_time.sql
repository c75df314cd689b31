{#-
    Converting a UTC instant to wall-clock time in a named zone has no portable SQL spelling,
    so it is dispatched per adapter. The result is a timestamp without time zone.
-#}
{% macro to_local_timestamp(column, time_zone=none) -%}
    {{ return(adapter.dispatch('to_local_timestamp', 'mmds')(column, time_zone or var('local_time_zone'))) }}
{%- endmacro %}

{% macro default__to_local_timestamp(column, time_zone) -%}
    ({{ column }} at time zone '{{ time_zone }}')
{%- endmacro %}

{% macro duckdb__to_local_timestamp(column, time_zone) -%}
    timezone('{{ time_zone }}', {{ column }})
{%- endmacro %}

{#- The local calendar date of a UTC instant. -#}
{% macro local_date(column, time_zone=none) -%}
    cast({{ to_local_timestamp(column, time_zone) }} as date)
{%- endmacro %}

{#- The local hour (0-23) of a UTC instant. -#}
{% macro local_hour(column, time_zone=none) -%}
    cast(extract(hour from {{ to_local_timestamp(column, time_zone) }}) as integer)
{%- endmacro %}
