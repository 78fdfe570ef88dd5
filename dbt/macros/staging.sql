{#- Helpers for the staging models: no dbt hub packages here (they need the network). -#}

{% macro month_of(ts) -%}
  {#- 'YYYY-MM' of an ISO 8601 text timestamp; SQLite's strftime handles `Z`, fractions and offsets. -#}
  strftime('%Y-%m', {{ ts }})
{%- endmacro %}

{% macro as_bool(col) -%}
  {#- target-sqlite stores booleans as 0/1 integers; NULL stays NULL. -#}
  case when {{ col }} is null then null when {{ col }} then 1 else 0 end
{%- endmacro %}

{% macro number_from_url(url) -%}
  {#- The trailing number of an API URL such as …/issues/42, as an integer. -#}
  cast(substr({{ url }}, length(rtrim({{ url }}, '0123456789')) + 1) as integer)
{%- endmacro %}

{% macro live_rows_filter(relation) -%}
  {#- Rows target-sqlite soft-deleted (ACTIVATE_VERSION on a full-table stream) carry
      `_sdc_deleted_at`; leave them out. Loads without metadata columns have nothing to filter. -#}
  {%- if execute -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- if '_sdc_deleted_at' in names -%}
      _sdc_deleted_at is null
    {%- else -%}
      1 = 1
    {%- endif -%}
  {%- else -%}
    1 = 1
  {%- endif -%}
{%- endmacro %}
