{#-
    The post-hook of an incremental model: delete the rows whose key is no longer in
    `source_relation` (requests deleted at the source, or that left the model's definition).
    After its incremental step the model holds every key of its source, so with equal counts it
    holds no other key (row_counts_differ): the anti-join over the whole table runs only when
    the counts differ.
-#}
{% macro delete_missing_keys(relation, source_relation, source_key, key='service_request_id') -%}
{%- if is_incremental() and row_counts_differ(relation, source_relation) -%}
delete from {{ relation }}
where not exists (
    select 1 from {{ source_relation }} as current_rows
    where current_rows.{{ source_key }} = {{ relation }}.{{ key }}
)
{%- endif -%}
{%- endmacro %}
