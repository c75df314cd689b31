{#-
    Stop the query with `message` (a SQL text expression) when it is evaluated: a test fails
    with a sentence that says what is wrong, rather than dbt's "Got 1 result".
-#}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'mmds')(message)) }}
{%- endmacro %}

{#- PostgreSQL has no error function in plain SQL: a failing cast carries the message. -#}
{% macro default__raise_error(message) -%}
    cast({{ message }} as integer)
{%- endmacro %}

{% macro duckdb__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}
