{{ config(tags=['rebuild_proof']) }}

-- The snapshot holds one current version per request of its input, at its last_modified_at (or
-- later, should the portal ever move a timestamp back), and no current version of a request
-- that left its input (deleted at the source: hard_deletes invalidate closes it).
with

current_statuses as (

    select
        service_request_id,
        last_modified_at
    from {{ ref('int_service_request_statuses') }}

),

current_versions as (

    select
        service_request_id,
        last_modified_at
    from {{ ref('snap_service_request_statuses') }}
    where dbt_valid_to is null

),

without_current_version as (

    select
        'no current version' as problem,
        current_statuses.service_request_id
    from current_statuses
    where not exists (
        select 1 from current_versions
        where
            current_versions.service_request_id = current_statuses.service_request_id
            and current_versions.last_modified_at >= current_statuses.last_modified_at
    )

),

left_silver as (

    select
        'current version of a request no longer in its input' as problem,
        current_versions.service_request_id
    from current_versions
    where not exists (
        select 1 from current_statuses
        where current_statuses.service_request_id = current_versions.service_request_id
    )

),

several_current as (

    select
        'several current versions' as problem,
        service_request_id
    from current_versions
    group by service_request_id
    having count(*) > 1

)

select * from without_current_version
union all
select * from left_silver
union all
select * from several_current
