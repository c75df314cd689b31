{#- The text of one top-level field of a JSON object (as sent: numbers and objects as JSON text). -#}
{% macro json_field_text(json_column, field) -%}
    {{ return(adapter.dispatch('json_field_text', 'mmds')(json_column, field)) }}
{%- endmacro %}

{#- The cast accepts a column of type json, jsonb or text alike. -#}
{% macro default__json_field_text(json_column, field) -%}
    (cast({{ json_column }} as json) ->> '{{ field }}')
{%- endmacro %}

{% macro duckdb__json_field_text(json_column, field) -%}
    json_extract_string({{ json_column }}, '$.{{ field }}')
{%- endmacro %}
