-- One row per committed load of bronze (its audit table), renamed.
with

source as (

    select * from {{ source('portal', '_loads') }}

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
