{% snapshot snap_service_request_statuses %}

{{
    config(
        schema='silver',
        unique_key='service_request_id',
        strategy='timestamp',
        updated_at='last_modified_at',
        hard_deletes='invalidate'
    )
}}

-- Every request whose history can be ordered: a request missing from this input (deleted at
-- the source, or whose last_modified_at became unusable) has its current version closed.
select * from {{ ref('int_service_request_statuses') }}

{% endsnapshot %}
