{#-
    The `indexes` config of a model whose incremental filter looks its own rows up by key:
    PostgreSQL runs a correlated `or not exists` row by row, so each lookup needs an index
    (without one, every lookup scans the whole table: hours at a million rows). DuckDB joins
    such a filter as a whole and is given no index (an ART index slows its writes).
-#}
{% macro lookup_indexes(columns) -%}
    {{ return(adapter.dispatch('lookup_indexes', 'mmds')(columns)) }}
{%- endmacro %}

{% macro default__lookup_indexes(columns) -%}
    {{ return([]) }}
{%- endmacro %}

{% macro postgres__lookup_indexes(columns) -%}
    {{ return([{'columns': columns}]) }}
{%- endmacro %}
