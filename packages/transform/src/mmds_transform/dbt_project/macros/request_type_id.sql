{#- Key of a request type: a hash of its name, with missing types mapped to one unknown member. -#}
{% macro request_type_id(column) -%}
    {{ dbt.hash("coalesce(" ~ column ~ ", '" ~ var('unknown_request_type') ~ "')") }}
{%- endmacro %}
