{#-
    True when the point lies inside the box around the City (var `vancouver_bounds`). One
    definition for the outside_city flag and for the coordinates gold keeps.
-#}
{% macro is_inside_city(latitude, longitude) -%}
    {%- set bounds = var('vancouver_bounds') -%}
    coalesce(
        {{ latitude }} between {{ bounds['min_latitude'] }} and {{ bounds['max_latitude'] }}
        and {{ longitude }} between {{ bounds['min_longitude'] }} and {{ bounds['max_longitude'] }},
        false
    )
{%- endmacro %}
