{#- Helpers for the staging models: no dbt hub packages here (they need the network).
    Each database-specific expression is a macro dispatched on the adapter (dbt's
    cross-database mechanism, `adapter.dispatch`): `sqlite__…` for target-sqlite's text
    timestamps and JSON text, `default__…` for PostgreSQL (timestamptz, jsonb) and others. -#}

{% macro month_of(ts) -%}
  {#- 'YYYY-MM' of a timestamp, in UTC. -#}
  {{ return(adapter.dispatch('month_of', 'tapline')(ts)) }}
{%- endmacro %}

{% macro sqlite__month_of(ts) -%}
  {#- ISO 8601 text; SQLite's strftime handles `Z`, fractions and offsets. -#}
  strftime('%Y-%m', {{ ts }})
{%- endmacro %}

{% macro default__month_of(ts) -%}
  {#- The cast reads ISO 8601 text too (tap-github declares timestamps as plain strings). -#}
  to_char(cast({{ ts }} as timestamptz) at time zone 'UTC', 'YYYY-MM')
{%- endmacro %}

{% macro hours_between(start, finish) -%}
  {#- Hours from `start` to `finish`, with fractions. -#}
  {{ return(adapter.dispatch('hours_between', 'tapline')(start, finish)) }}
{%- endmacro %}

{% macro sqlite__hours_between(start, finish) -%}
  (julianday({{ finish }}) - julianday({{ start }})) * 24.0
{%- endmacro %}

{% macro default__hours_between(start, finish) -%}
  extract(epoch from (cast({{ finish }} as timestamptz) - cast({{ start }} as timestamptz))) / 3600.0
{%- endmacro %}

{% macro first_line(text) -%}
  {#- The text up to its first line break. -#}
  {{ return(adapter.dispatch('first_line', 'tapline')(text)) }}
{%- endmacro %}

{% macro sqlite__first_line(text) -%}
  case
      when instr({{ text }}, char(10)) > 0
          then substr({{ text }}, 1, instr({{ text }}, char(10)) - 1)
      else {{ text }}
  end
{%- endmacro %}

{% macro default__first_line(text) -%}
  split_part({{ text }}, chr(10), 1)
{%- endmacro %}

{% macro json_array_size(col) -%}
  {#- Elements of a JSON array column (JSON text in SQLite, jsonb in PostgreSQL). -#}
  {{ return(adapter.dispatch('json_array_size', 'tapline')(col)) }}
{%- endmacro %}

{% macro sqlite__json_array_size(col) -%}
  json_array_length({{ col }})
{%- endmacro %}

{% macro default__json_array_size(col) -%}
  jsonb_array_length({{ col }})
{%- endmacro %}

{% macro as_bool(col) -%}
  {#- Booleans as 1/0 (target-sqlite stores 0/1 integers, PostgreSQL booleans); NULL stays NULL. -#}
  case when {{ col }} is null then null when {{ col }} then 1 else 0 end
{%- endmacro %}

{% macro number_from_url(url) -%}
  {#- The trailing number of an API URL such as …/issues/42, as an integer. -#}
  {{ return(adapter.dispatch('number_from_url', 'tapline')(url)) }}
{%- endmacro %}

{% macro sqlite__number_from_url(url) -%}
  cast(substr({{ url }}, length(rtrim({{ url }}, '0123456789')) + 1) as integer)
{%- endmacro %}

{% macro default__number_from_url(url) -%}
  cast(substring({{ url }} from '[0-9]+$') as bigint)
{%- endmacro %}

{% macro live_rows_filter(relation) -%}
  {#- Rows a target soft-deleted (ACTIVATE_VERSION on a full-table stream) carry
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
