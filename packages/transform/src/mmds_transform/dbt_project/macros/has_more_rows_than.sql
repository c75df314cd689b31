{#-
    True when `relation` (rows matching `where`) holds more rows than `source_relation`.
    After an incremental step, a model holds every key of its source, so it holds a key that
    left the source exactly when it has more rows: the deletion hooks run their anti-join over
    the whole table only then (a full load that reconciled deletions), not on every build.
-#}
{% macro has_more_rows_than(relation, source_relation, where='1 = 1') -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set counts -%}
        select
            (select count(*) from {{ relation }} where {{ where }})
            > (select count(*) from {{ source_relation }}) as has_more
    {%- endset -%}
    {{ return(run_query(counts).columns[0].values()[0]) }}
{%- endmacro %}
