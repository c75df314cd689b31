-- One row per request type of the requests gold counts, with the department that handles most
-- of its requests (a department outside the known domain counts as the Other member).
with

service_requests as (

    select * from {{ ref('int_service_requests_flagged') }}
    where not is_excluded_from_fact

),

type_departments as (

    select
        coalesce(request_type, '{{ var("unknown_request_type") }}') as request_type,
        {{ known_or_other('department', 'has_unknown_department') }} as department,
        count(*) as request_count
    from service_requests
    group by 1, 2

),

ranked as (

    select
        request_type,
        department,
        row_number() over (
            partition by request_type
            order by request_count desc, department asc
        ) as department_rank
    from type_departments

),

typed as (

    select
        request_type,
        department,
        request_type like 'ZZ OLD - %' or request_type like 'Z - %' as is_deprecated,
        case
            when request_type like 'ZZ OLD - %' then substring(request_type from 10)
            when request_type like 'Z - %' then substring(request_type from 5)
            else request_type
        end as undeprecated_type
    from ranked
    where department_rank = 1

)

select
    {{ request_type_id('request_type') }} as request_type_id,
    request_type,
    department,
    trim({{ dbt.split_part('department', "' - '", 1) }}) as business_unit,
    is_deprecated,
    trim(
        case
            when undeprecated_type like '% Case'
                then substring(undeprecated_type from 1 for {{ dbt.length('undeprecated_type') }} - 5)
            else undeprecated_type
        end
    ) as category
from typed
