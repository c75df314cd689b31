{#-
    Quality reasons travel as one comma-separated, sorted list per request (bronze
    `_quality_issues`, silver and gold `quality_reasons`). These macros read and build it.
-#}

{#- True when the comma-separated list holds `code` (exactly, not as part of a longer code). -#}
{% macro has_reason(list_column, code) -%}
    coalesce({{ dbt.position("'," ~ code ~ ",'", dbt.concat(["','", list_column, "','"])) }} > 0, false)
{%- endmacro %}

{#- The list's codes in ascending order, joined by commas (null stays null). -#}
{% macro sort_reasons(list_column) -%}
    {{ return(adapter.dispatch('sort_reasons', 'mmds')(list_column)) }}
{%- endmacro %}

{#- Byte order ("C"), as DuckDB sorts, whatever the database's collation. -#}
{% macro default__sort_reasons(list_column) -%}
    array_to_string(
        array(
            select reason_codes.code
            from unnest(string_to_array({{ list_column }}, ',')) as reason_codes (code)
            order by reason_codes.code collate "C"
        ),
        ','
    )
{%- endmacro %}

{% macro duckdb__sort_reasons(list_column) -%}
    array_to_string(list_sort(string_split({{ list_column }}, ',')), ',')
{%- endmacro %}

{#- One output row per code of the list (a set-returning expression for the select list). -#}
{% macro reasons_to_rows(list_column) -%}
    {{ return(adapter.dispatch('reasons_to_rows', 'mmds')(list_column)) }}
{%- endmacro %}

{% macro default__reasons_to_rows(list_column) -%}
    unnest(string_to_array({{ list_column }}, ','))
{%- endmacro %}

{% macro duckdb__reasons_to_rows(list_column) -%}
    unnest(string_split({{ list_column }}, ','))
{%- endmacro %}

{#- A gold value for a column whose value may be outside its known domain: the `Other` member. -#}
{% macro known_or_other(column, is_unknown) -%}
    case when {{ is_unknown }} then '{{ var("other_member") }}' else {{ column }} end
{%- endmacro %}
