{#- Trimmed text, with empty strings as null: the portal sends both for "no value". -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
