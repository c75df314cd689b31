{#-
    The number held by var `name` (a systemic-breakage threshold, set with --vars or its
    environment variable), checked to lie within [minimum, maximum]: a typo fails the build
    with a message instead of silently turning the check off.
-#}
{% macro flagged_share_threshold(name, minimum, maximum) -%}
    {%- set raw = var(name) | string | trim -%}
    {%- set number = raw | float(none) -%}
    {%- if number is none
        or number < minimum
        or (maximum is not none and number > maximum) -%}
        {{ exceptions.raise_compiler_error(
            "dbt var " ~ name ~ " (environment MMDS_" ~ name | upper ~ ") must be a number"
            ~ (" between " ~ minimum ~ " and " ~ maximum if maximum is not none else " of at least " ~ minimum)
            ~ ", got '" ~ raw ~ "'"
        ) }}
    {%- endif -%}
    {{ return(number) }}
{%- endmacro %}
