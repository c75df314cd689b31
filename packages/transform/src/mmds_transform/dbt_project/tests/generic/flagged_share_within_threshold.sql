{#-
    Systemic breakage (docs/contracts.md): the rows in `scope` are broken when more than var
    `min_flagged_rows` of them carry a quality reason AND their share exceeds var
    `max_flagged_share`. Then the test stops with a sentence naming the scope, the share, both
    thresholds and the most frequent reasons (dbt's own message would only say "Got 1 result").
    scope: `newest_load` (the rows the newest succeeded load wrote: `is_in_newest_load`) or
    `all_requests` (every request the model holds).
-#}
{% test flagged_share_within_threshold(model, scope) %}
{%- set max_share = flagged_share_threshold('max_flagged_share', 0, 1) -%}
{%- set min_rows = flagged_share_threshold('min_flagged_rows', 0, none) | int -%}
{%- if scope not in ('newest_load', 'all_requests') -%}
    {{ exceptions.raise_compiler_error("flagged_share_within_threshold: scope must be newest_load or all_requests, got " ~ scope) }}
{%- endif -%}
with

in_scope as (

    select
        quality_reasons,
        load_id
    from {{ model }}
    {% if scope == 'newest_load' -%}
    where is_in_newest_load
    {%- endif %}

),

totals as (

    select
        count(*) as scope_rows,
        count(quality_reasons) as flagged_rows
    from in_scope

),

reason_rows as (

    select {{ reasons_to_rows('quality_reasons') }} as quality_reason
    from in_scope
    where quality_reasons is not null

),

reason_counts as (

    select
        quality_reason,
        count(*) as flagged_rows
    from reason_rows
    group by quality_reason

),

top_reasons as (

    select
        {{ dbt.listagg(
            dbt.concat(["quality_reason", "' '", "cast(flagged_rows as " ~ dbt.type_string() ~ ")"]),
            "', '",
            "order by flagged_rows desc, quality_reason",
            5
        ) }} as reasons
    from reason_counts

),

breached as (

    select
        totals.scope_rows,
        totals.flagged_rows,
        top_reasons.reasons,
        (select max(in_scope.load_id) from in_scope) as load_id
    from totals cross join top_reasons
    where
        totals.flagged_rows > {{ min_rows }}
        and totals.flagged_rows > {{ max_share }} * totals.scope_rows

)

select
    {{ raise_error(dbt.concat([
        "'systemic breakage: '",
        "cast(flagged_rows as " ~ dbt.type_string() ~ ")",
        "' of '",
        "cast(scope_rows as " ~ dbt.type_string() ~ ")",
        ("' rows of the newest load ('" if scope == 'newest_load' else "' requests in silver'"),
        ("coalesce(load_id, 'none')" if scope == 'newest_load' else "''"),
        ("')'" if scope == 'newest_load' else "''"),
        "' are flagged ('",
        "cast(round(100.0 * flagged_rows / scope_rows, 1) as " ~ dbt.type_string() ~ ")",
        "'%), more than max_flagged_share " ~ max_share ~ " and more than min_flagged_rows " ~ min_rows ~ "'",
        "'; most frequent reasons: '",
        "reasons",
        "'. Nothing is published until the cause is fixed (see gold.fct_quarantined_requests), or the thresholds are raised (MMDS_MAX_FLAGGED_SHARE, MMDS_MIN_FLAGGED_ROWS).'",
    ])) }} as breach
from breached
{% endtest %}
