{{
    config(
        materialized='incremental',
        unique_key='service_request_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "{% if is_incremental() and row_counts_differ(this, source('portal', 'service_requests')) %}
            delete from {{ this }}
            where not exists (
                select 1 from {{ source('portal', 'service_requests') }} as bronze
                where bronze._record_key = {{ this }}.service_request_id
            )
            {% endif %}"
        ]
    )
}}

-- A table, not a view: every silver and gold model and many tests read it. Incremental runs
-- take only the bronze rows a load inserted or changed since the last run (_loaded_at is the
-- commit instant of the load that last wrote the row) and the post-hook drops requests that
-- left bronze; assert_stg_portal__service_requests_matches_full_rebuild proves the result.
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
        case
            when lower(trim(status)) in ('close', 'closed') then 'Closed'
            when lower(trim(status)) = 'open' then 'Open'
            else {{ clean_text('status') }}
        end as status,
        {{ clean_text('closure_reason') }} as closure_reason,
        {{ clean_text('address') }} as address,
        {{ clean_text('local_area') }} as local_area,
        {{ clean_text('channel') }} as channel,

        -- numerics: only coordinates inside the City are kept, and only as a pair
        case
            when
                latitude between {{ var('vancouver_bounds')['min_latitude'] }}
                and {{ var('vancouver_bounds')['max_latitude'] }}
                and longitude between {{ var('vancouver_bounds')['min_longitude'] }}
                and {{ var('vancouver_bounds')['max_longitude'] }}
                then latitude
        end as latitude,
        case
            when
                latitude between {{ var('vancouver_bounds')['min_latitude'] }}
                and {{ var('vancouver_bounds')['max_latitude'] }}
                and longitude between {{ var('vancouver_bounds')['min_longitude'] }}
                and {{ var('vancouver_bounds')['max_longitude'] }}
                then longitude
        end as longitude,

        -- booleans
        lower(trim(status)) = 'open' as is_open,
        coalesce(
            trim(service_request_type) like 'ZZ OLD - %'
            or trim(service_request_type) like 'Z - %',
            false
        ) as is_deprecated_type,
        _quality_issues is not null as has_quality_issues,

        -- dates
        service_request_close_date as closed_date,
        {{ local_date('service_request_open_timestamp') }} as opened_date_local,
        {{ local_hour('service_request_open_timestamp') }} as opened_hour_local,

        -- timestamps
        service_request_open_timestamp as opened_at,
        last_modified_timestamp as last_modified_at,

        -- lineage
        _quality_issues as quality_issues,
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
    is_open,
    is_deprecated_type,
    has_quality_issues,
    closed_date,
    opened_date_local,
    opened_hour_local,
    opened_at,
    last_modified_at,
    quality_issues,
    row_hash,
    load_id,
    loaded_at
from deduplicated
where version_rank = 1
