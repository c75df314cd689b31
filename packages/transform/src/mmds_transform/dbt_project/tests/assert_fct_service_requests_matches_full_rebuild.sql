{{ config(tags=['rebuild_proof']) }}

-- The incremental fact equals its full-rebuild definition: rows on either side only fail.
with

incremental as (

    select * from {{ ref('fct_service_requests') }}

),

full_rebuild as (

    select * from {{ ref('int_service_requests_enriched') }}

),

only_in_incremental as (

    select * from incremental
    {{ dbt.except() }}
    select * from full_rebuild

),

only_in_full_rebuild as (

    select * from full_rebuild
    {{ dbt.except() }}
    select * from incremental

)

-- Both sides have the fact's columns, whatever they are: the wildcard is the point here.
select
    'only in fct_service_requests' as side,
    only_in_incremental.*  -- noqa: AM04
from only_in_incremental
union all
select
    'only in a full rebuild' as side,
    only_in_full_rebuild.*
from only_in_full_rebuild
