{%- set transform_reasons = {
    'unknown_status': 'status',
    'unknown_channel': 'channel',
    'unknown_department': 'department',
    'unknown_closure_reason': 'closure_reason',
    'unknown_local_area': 'local_area',
    'closed_before_opened': 'service_request_close_date',
    'outside_city': 'latitude, longitude',
    'exact_duplicate': none,
} -%}
{#- Ingest codes are `<field>_<kind>`; these are the kinds, longest first so none hides another. -#}
{%- set ingest_kinds = [
    'control_characters', 'before_first_year', 'formula_like', 'unparseable', 'not_number',
    'in_future', 'too_long', 'not_text', 'missing',
] -%}
{%- set portal_fields = [
    'department', 'service_request_type', 'status', 'closure_reason',
    'service_request_open_timestamp', 'service_request_close_date', 'last_modified_timestamp',
    'address', 'local_area', 'channel', 'latitude', 'longitude', 'geom',
] -%}

-- The quarantine: one row per flagged request and reason, with the field the reason concerns,
-- the value as the portal sent it (cut for display), what gold does about it, and when the
-- request was loaded and opened. Every request of silver with a quality reason is here,
-- whether gold excludes it or keeps it mapped, nulled, cleaned or as it is.
with

flagged as (

    select
        service_request_id,
        quality_reasons,
        is_excluded_from_fact,
        opened_at,
        load_id,
        loaded_at
    from {{ ref('int_service_requests_flagged') }}
    where quality_reasons is not null

),

raw_records as (

    select * from {{ ref('stg_portal__raw_records') }}

),

reasons as (

    select
        service_request_id,
        {{ reasons_to_rows('quality_reasons') }} as quality_reason,
        is_excluded_from_fact,
        opened_at,
        load_id,
        loaded_at
    from flagged

),

described as (

    select
        *,
        case
            {%- for reason, field in transform_reasons.items() %}
            when quality_reason = '{{ reason }}' then {{ "'" ~ field ~ "'" if field else 'null' }}
            {%- endfor %}
            when quality_reason = 'coordinates_out_of_range' then 'latitude, longitude'
            when quality_reason = 'geom_invalid' then 'geom'
            {%- for kind in ingest_kinds %}
            when {{ dbt.right('quality_reason', (kind | length) + 1) }} = '_{{ kind }}'
                then substring(quality_reason from 1 for {{ dbt.length('quality_reason') }} - {{ (kind | length) + 1 }})
            {%- endfor %}
        end as field_name,
        case
            when quality_reason in ({{ "'" ~ transform_reasons.keys() | join("', '") ~ "'" }}) then 'transform'
            else 'ingest'
        end as flagged_by
    from reasons

),

valued as (

    select
        described.*,
        case described.field_name
            {%- for field in portal_fields %}
            when '{{ field }}' then {{ json_field_text('raw_records.raw_record', field) }}
            {%- endfor %}
            when 'latitude, longitude'
                then {{ dbt.concat([
                    "coalesce(" ~ json_field_text('raw_records.raw_record', 'latitude') ~ ", 'null')",
                    "', '",
                    "coalesce(" ~ json_field_text('raw_records.raw_record', 'longitude') ~ ", 'null')",
                ]) }}
        end as raw_value
    from described
    left join raw_records
        on described.service_request_id = raw_records.service_request_id

)

select
    cast(service_request_id as {{ dbt.type_string() }}) as service_request_id,
    cast(quality_reason as {{ dbt.type_string() }}) as quality_reason,
    cast(flagged_by as {{ dbt.type_string() }}) as flagged_by,
    cast(field_name as {{ dbt.type_string() }}) as field_name,
    cast(substring(raw_value from 1 for {{ var('max_displayed_value_length') }}) as {{ dbt.type_string() }})
        as raw_value,
    cast({{ dbt.length('raw_value') }} as integer) as raw_value_length,
    cast(
        case
            when
                quality_reason in ('unknown_status', 'status_missing')
                or field_name = 'service_request_open_timestamp'
                then 'excluded'
            when quality_reason = 'unknown_local_area' then 'mapped_to_unknown'
            when quality_reason in ('unknown_channel', 'unknown_department', 'unknown_closure_reason')
                then 'mapped_to_other'
            when
                quality_reason in ('outside_city', 'coordinates_out_of_range', 'geom_invalid')
                or field_name in ('latitude', 'longitude')
                or (
                    field_name in ('service_request_close_date', 'last_modified_timestamp')
                    and quality_reason <> 'closed_before_opened'
                    and quality_reason <> 'last_modified_timestamp_missing'
                )
                then 'nulled'
            when
                {{ dbt.right('quality_reason', 9) }} = '_too_long'
                or {{ dbt.right('quality_reason', 19) }} = '_control_characters'
                then 'cleaned'
            else 'kept'
        end as {{ dbt.type_string() }}
    ) as treatment,
    is_excluded_from_fact,
    opened_at,
    load_id,
    loaded_at
from valued
