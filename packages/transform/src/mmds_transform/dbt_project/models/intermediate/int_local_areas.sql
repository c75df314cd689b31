{{ config(materialized='table') }}

-- The known local-area domain: every area of the portal's boundaries with its stable id from
-- the seed local_areas. Ids live in a committed seed because the incremental fact stores them:
-- an id derived from the boundaries themselves (an order, a count) would move when an area is
-- added and leave old rows of the fact pointing at another area. An area the seed does not
-- number yet is left out (its requests are unknown_local_area) until its line is added; a
-- warn-severity test on the boundaries names it.
with

boundaries as (

    select * from {{ ref('stg_portal__local_area_boundaries') }}

),

ids as (

    select * from {{ ref('local_areas') }}

),

known as (

    select
        ids.local_area_id,
        boundaries.local_area_name,
        boundaries.boundary_geojson,
        boundaries.centroid_latitude,
        boundaries.centroid_longitude
    from boundaries
    inner join ids
        on boundaries.local_area_name = ids.local_area_name

),

-- Without any boundary every request naming an area would be flagged unknown_local_area (and
-- the systemic-breakage tests would stop the build, less directly): stop here, saying what to
-- load, so that nothing built on the areas runs and gold stays as it was.
missing_boundaries as (

    select count(local_area) as requests_naming_an_area
    from {{ ref('stg_portal__service_requests') }}
    having
        count(local_area) > 0
        and not exists (select 1 from boundaries)

),

stop as (

    select
        {{ raise_error(dbt.concat([
            "'bronze.local_area_boundaries is empty while '",
            "cast(requests_naming_an_area as " ~ dbt.type_string() ~ ")",
            "' requests name a local area: load the local-area-boundary dataset (mmds-ingest load) before building'",
        ])) }} as problem
    from missing_boundaries

)

select
    local_area_id,
    local_area_name,
    boundary_geojson,
    centroid_latitude,
    centroid_longitude
from known

union all

-- Filtering on the message makes every engine evaluate it; the row never exists.
select
    cast(null as integer) as local_area_id,
    cast(null as {{ dbt.type_string() }}) as local_area_name,
    cast(null as {{ dbt.type_string() }}) as boundary_geojson,
    cast(null as double precision) as centroid_latitude,
    cast(null as double precision) as centroid_longitude
from stop
where problem is null
