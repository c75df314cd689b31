{#-
    What `hard_deletes: invalidate` does, for a snapshot given only its changed rows: close the
    current version of every key missing from the full source, at the snapshot's time.
-#}
{% macro invalidate_snapshot_deletions(snapshot, source_relation, unique_key='service_request_id') -%}
update {{ snapshot }}
set dbt_valid_to = {{ snapshot_get_time() }}
where
    dbt_valid_to is null
    and not exists (
        select 1 from {{ source_relation }} as current_rows
        where current_rows.{{ unique_key }} = {{ snapshot }}.{{ unique_key }}
    )
{%- endmacro %}
