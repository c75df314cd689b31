{% snapshot snap_service_request_statuses %}

{{
    config(
        schema='silver',
        unique_key='service_request_id',
        strategy='timestamp',
        updated_at='last_modified_at',
        hard_deletes='ignore',
        post_hook=["{{ invalidate_snapshot_deletions(this, ref('int_service_request_statuses')) }}"]
    )
}}

-- dbt compares every row it is given with the current versions. Only requests without a
-- current version at their last_modified_at can change the history, so only those are given
-- (about 1% of the table on a routine build). Requests that left silver are closed by the
-- post-hook, as `hard_deletes: invalidate` would close them (that needs every row as input).
select * from {{ ref('int_service_request_statuses') }} as current_statuses
{% if load_relation(this) is not none %}
where not exists (
    select 1 from {{ this }} as current_versions
    where
        current_versions.dbt_valid_to is null
        and current_versions.service_request_id = current_statuses.service_request_id
        and current_versions.last_modified_at = current_statuses.last_modified_at
)
{% endif %}

{% endsnapshot %}
