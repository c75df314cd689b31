{#-
    True when `relation` (rows matching `where`) and `source_relation` hold different numbers of
    rows. After an incremental step a model holds every key of its source, so with equal counts
    it holds no key that left the source: the deletion hooks run their anti-join over the whole
    table only when the counts differ (after a full load that reconciled deletions, or should
    the source ever repeat a key), not on every build.
-#}
{% macro row_counts_differ(relation, source_relation, where='1 = 1') -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set counts -%}
        select
            (select count(*) from {{ relation }} where {{ where }})
            <> (select count(*) from {{ source_relation }}) as counts_differ
    {%- endset -%}
    {{ return(run_query(counts).columns[0].values()[0]) }}
{%- endmacro %}
