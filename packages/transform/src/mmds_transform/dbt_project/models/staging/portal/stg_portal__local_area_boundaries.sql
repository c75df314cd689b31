-- One row per local area the portal's boundary dataset names: its name as 3-1-1 spells it, its
-- GeoJSON geometry as text and its centroid. Should the portal ever send a name twice, the
-- most recently loaded record wins (the source's warn-severity tests count such names).
with

source as (

    select * from {{ source('portal', 'local_area_boundaries') }}

),

renamed as (

    select
        {{ clean_text('name') }} as local_area_name,
        cast(geom as {{ dbt.type_string() }}) as boundary_geojson,
        cast({{ json_field_text('geo_point_2d', 'lat') }} as double precision) as centroid_latitude,
        cast({{ json_field_text('geo_point_2d', 'lon') }} as double precision) as centroid_longitude,
        {{ json_field_text('geom', 'type') }} as geometry_type,
        _record_key as record_key,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by local_area_name
            order by loaded_at desc, record_key asc
        ) as name_rank
    from renamed
    where local_area_name is not null

)

select
    local_area_name,
    boundary_geojson,
    centroid_latitude,
    centroid_longitude,
    geometry_type,
    record_key,
    load_id,
    loaded_at
from ranked
where name_rank = 1
