-- =======================================================================================
-- The SQL page: saved queries, and the schema it shows beside the query box
-- =======================================================================================

-- ---------------------------------------------------------------------------------------
-- Saved queries: named, each with an owner, readable by superusers and analysts
-- ---------------------------------------------------------------------------------------
create table analytics.saved_queries (
  id uuid primary key default gen_random_uuid(),
  owner uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null check (char_length(btrim(name)) between 1 and 200),
  sql text not null check (char_length(sql) between 1 and 100000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (owner, name)
);
comment on table analytics.saved_queries is
  'Beacon: named queries saved from the SQL page (/analytics/sql). Superusers and analysts read all of them; each owner changes and deletes their own.';
comment on column analytics.saved_queries.id is 'The saved query''s id.';
comment on column analytics.saved_queries.owner is 'The auth.users id of who saved it.';
comment on column analytics.saved_queries.name is 'Its name, unique per owner (1 to 200 characters).';
comment on column analytics.saved_queries.sql is 'The query text.';
comment on column analytics.saved_queries.created_at is 'When it was first saved.';
comment on column analytics.saved_queries.updated_at is 'When it was last saved.';

revoke all on table analytics.saved_queries from public, anon, authenticated, service_role, analyst;
grant select, delete on table analytics.saved_queries to authenticated;
grant insert (name, sql), update (name, sql, updated_at) on table analytics.saved_queries to authenticated;
grant select on table analytics.saved_queries to analyst;
grant select, insert, update, delete on table analytics.saved_queries to service_role;

alter table analytics.saved_queries enable row level security;

create policy "Superusers and analysts can read saved queries"
  on analytics.saved_queries for select to authenticated
  using ((select private.is_superuser()) or (select private.is_analyst()));
create policy "Analysts can read saved queries"
  on analytics.saved_queries for select to analyst
  using (true);
create policy "Superusers and analysts can save their own queries"
  on analytics.saved_queries for insert to authenticated
  with check (owner = (select auth.uid()) and ((select private.is_superuser()) or (select private.is_analyst())));
create policy "Owners can change their saved queries"
  on analytics.saved_queries for update to authenticated
  using (owner = (select auth.uid()))
  with check (owner = (select auth.uid()) and ((select private.is_superuser()) or (select private.is_analyst())));
create policy "Owners and superusers can delete saved queries"
  on analytics.saved_queries for delete to authenticated
  using (owner = (select auth.uid()) or (select private.is_superuser()));

-- ---------------------------------------------------------------------------------------
-- The schema browser
-- ---------------------------------------------------------------------------------------
create function analytics.sql_schema()
returns table (schema_name text, object_name text, kind text, description text, columns jsonb)
language sql
stable
security invoker
set search_path = ''
as $$
  select n.nspname::text, c.relname::text,
         case c.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
         obj_description(c.oid, 'pg_class'),
         coalesce((select jsonb_agg(jsonb_build_object(
                            'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                            'description', col_description(c.oid, a.attnum)) order by a.attnum)
                     from pg_catalog.pg_attribute a
                    where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'::jsonb)
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('analytics', 'public') and c.relkind in ('r', 'p', 'v', 'm')
     and not c.relispartition
  union all
  select n.nspname::text, p.proname::text, 'function',
         obj_description(p.oid, 'pg_proc'),
         jsonb_build_array(jsonb_build_object(
           'name', '(' || pg_catalog.pg_get_function_arguments(p.oid) || ')',
           'type', pg_catalog.pg_get_function_result(p.oid), 'description', null))
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('analytics', 'public') and p.prokind = 'f'
   order by 1, 3 desc, 2
$$;
comment on function analytics.sql_schema() is
  'The tables, views and functions of schemas analytics and public with their comments and columns (arguments and result for functions), for the SQL page''s schema browser.';
revoke all on function analytics.sql_schema() from public, anon, authenticated, service_role;
grant execute on function analytics.sql_schema() to authenticated, service_role, analyst;
