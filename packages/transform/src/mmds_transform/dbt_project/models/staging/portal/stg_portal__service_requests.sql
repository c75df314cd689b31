{{
    config(
        materialized='incremental',
        unique_key='service_request_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "{{ delete_missing_keys(this, source('portal', 'service_requests'), '_record_key') }}"
        ]
    )
}}

-- A table, not a view: every silver and gold model and many tests read it. Incremental runs
-- take only the bronze rows a load inserted or changed since the last run (_loaded_at is the
-- commit instant of the load that last wrote the row) and the post-hook drops requests that
-- left bronze; assert_stg_portal__service_requests_matches_full_rebuild proves the result.
-- Values stay as sent, typed and with clean text: domains and flags are checked downstream.
with

source as (

    select * from {{ source('portal', 'service_requests') }}
    {% if is_incremental() %}
    where
        -- an empty table (built before the first load) takes everything
        not exists (select 1 from {{ this }})
        or _loaded_at > (select max(already_loaded.loaded_at) from {{ this }} as already_loaded)
    {% endif %}

),

renamed as (

    select
        -- ids
        _record_key as service_request_id,

        -- text
        {{ clean_text('department') }} as department,
        {{ clean_text('service_request_type') }} as request_type,
        {{ clean_text('status') }} as status,
        {{ clean_text('closure_reason') }} as closure_reason,
        {{ clean_text('address') }} as address,
        {{ clean_text('local_area') }} as local_area,
        {{ clean_text('channel') }} as channel,

        -- numerics (ingest nulls what is outside +-90/+-180)
        latitude,
        longitude,

        -- dates
        service_request_close_date as closed_date,
        {{ local_date('service_request_open_timestamp') }} as opened_date_local,
        {{ local_hour('service_request_open_timestamp') }} as opened_hour_local,

        -- timestamps
        service_request_open_timestamp as opened_at,
        last_modified_timestamp as last_modified_at,

        -- lineage
        _quality_issues as ingest_quality_reasons,
        _row_hash as row_hash,
        _load_id as load_id,
        _loaded_at as loaded_at

    from source

),

deduplicated as (

    -- Bronze holds one row per key by contract; should a key ever repeat, the newest version wins.
    select
        *,
        row_number() over (
            partition by service_request_id
            order by last_modified_at desc nulls last, loaded_at desc, row_hash asc
        ) as version_rank
    from renamed

)

select
    service_request_id,
    department,
    request_type,
    status,
    closure_reason,
    address,
    local_area,
    channel,
    latitude,
    longitude,
    closed_date,
    opened_date_local,
    opened_hour_local,
    opened_at,
    last_modified_at,
    ingest_quality_reasons,
    row_hash,
    load_id,
    loaded_at
from deduplicated
where version_rank = 1
