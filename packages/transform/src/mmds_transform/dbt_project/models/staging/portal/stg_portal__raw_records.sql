-- Each bronze record exactly as the portal sent it, for showing flagged values as sent. A view:
-- only the quarantine reads it, and only for flagged requests.
with

source as (

    select * from {{ source('portal', 'service_requests') }}

),

renamed as (

    select
        _record_key as service_request_id,
        _raw as raw_record
    from source

)

select * from renamed
