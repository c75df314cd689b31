{#-
    Text as silver keeps it: control characters (U+0000-U+001F, U+007F) replaced by a space,
    trimmed, empty as null (the portal sends both for "no value"), and cut to var
    `max_text_length` characters (ingest flags longer values `<field>_too_long`).
-#}
{% macro clean_text(column) -%}
    nullif(
        trim(substring(trim({{ replace_control_characters(column) }}) from 1 for {{ var('max_text_length') }})),
        ''
    )
{%- endmacro %}

{#- Each control character replaced by a space (regular expressions differ between engines). -#}
{% macro replace_control_characters(column) -%}
    {{ return(adapter.dispatch('replace_control_characters', 'mmds')(column)) }}
{%- endmacro %}

{% macro default__replace_control_characters(column) -%}
    regexp_replace({{ column }}, '[\x01-\x1F\x7F]', ' ', 'g')
{%- endmacro %}

{% macro duckdb__replace_control_characters(column) -%}
    regexp_replace({{ column }}, '[\x00-\x1F\x7F]', ' ', 'g')
{%- endmacro %}
