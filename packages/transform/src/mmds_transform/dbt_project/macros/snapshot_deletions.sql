{#-
    What `hard_deletes: invalidate` does, for a snapshot given only its changed rows: close the
    current version of every key missing from the full source, at the snapshot's time. Every
    key of the source has a current version once the snapshot ran, so there can be one to
    close only when the number of current versions differs from the source's rows.
-#}
{% macro invalidate_snapshot_deletions(snapshot, source_relation, unique_key='service_request_id') -%}
{%- if row_counts_differ(snapshot, source_relation, where='dbt_valid_to is null') -%}
update {{ snapshot }}
set dbt_valid_to = {{ snapshot_get_time() }}
where
    dbt_valid_to is null
    and not exists (
        select 1 from {{ source_relation }} as current_rows
        where current_rows.{{ unique_key }} = {{ snapshot }}.{{ unique_key }}
    )
{%- endif -%}
{%- endmacro %}
