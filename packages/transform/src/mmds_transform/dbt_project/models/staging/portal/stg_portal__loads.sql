-- One row per committed load of the service requests (bronze's audit table), renamed.
with

source as (

    select * from {{ source('portal', '_loads') }}
    -- the audit table records every dataset's loads; the newest load is the requests'
    where dataset = '3-1-1-service-requests'

),

renamed as (

    select
        load_id,
        mode as load_mode,
        status as load_status,
        finished_at
    from source

)

select * from renamed
