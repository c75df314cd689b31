-- The City's local areas (the portal's boundaries, numbered by the seed local_areas) with their
-- geometry and centroid, plus an explicit unknown member (id 0) for requests without a known area.
with

local_areas as (

    select * from {{ ref('int_local_areas') }}

),

unknown_member as (

    select
        0 as local_area_id,
        'Unknown' as local_area_name,
        true as is_unknown

)

select
    cast(local_area_id as integer) as local_area_id,
    cast(local_area_name as {{ dbt.type_string() }}) as local_area_name,
    false as is_unknown,
    cast(boundary_geojson as {{ dbt.type_string() }}) as boundary_geojson,
    cast(centroid_latitude as double precision) as centroid_latitude,
    cast(centroid_longitude as double precision) as centroid_longitude
from local_areas

union all

select
    cast(local_area_id as integer) as local_area_id,
    cast(local_area_name as {{ dbt.type_string() }}) as local_area_name,
    is_unknown,
    cast(null as {{ dbt.type_string() }}) as boundary_geojson,
    cast(null as double precision) as centroid_latitude,
    cast(null as double precision) as centroid_longitude
from unknown_member
