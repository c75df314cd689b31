-- The 22 local areas plus an explicit unknown member (id 0) for requests without an area.
with

local_areas as (

    select * from {{ ref('local_areas') }}

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
    false as is_unknown
from local_areas

union all

select
    cast(local_area_id as integer) as local_area_id,
    cast(local_area_name as {{ dbt.type_string() }}) as local_area_name,
    is_unknown
from unknown_member
