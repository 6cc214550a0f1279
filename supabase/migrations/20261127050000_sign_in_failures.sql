-- =======================================================================================
-- Sign-in lockout, counted in the database
-- =======================================================================================
-- Beacon counts sign-in attempts per account and per client address, before the password
-- is checked: at most `account_max` per account and `address_max` per address within the
-- window, then the caller waits. The counts live here, not in a process's memory, so every
-- server process and every edge isolate on the database shares them (Supabase Auth's own
-- rate limits count per calling address, which on the edge is the function's, and never
-- lock an account).
--
-- An attempt is one row per key (kind 'account' and kind 'address'), sharing an attempt id.
-- It counts as a failure until the server forgets it (no answer about the password) or the
-- sign-in succeeds (the account's rows go; the address keeps its earlier failures). Keys
-- are kept as SHA-256, never as typed (people type passwords into the email field).
-- The functions run as service_role (the server's role for its own work) or the owner.

create table private.sign_in_failures (
  attempt uuid not null,
  kind text not null check (kind in ('account', 'address')),
  key bytea not null check (octet_length(key) = 32),
  attempted_at timestamptz not null default clock_timestamp(),
  primary key (attempt, kind)
);
comment on table private.sign_in_failures is
  'Sign-in attempts still counted as failures, per account and per client address (SHA-256 of the key), for the lockout. Written only through private.begin_sign_in_attempt and its companions; rows older than the window are pruned by them.';
comment on column private.sign_in_failures.attempt is 'The attempt: its account row and its address row share it.';
comment on column private.sign_in_failures.kind is 'What the key is: the account (lower-cased email) or the client address.';
comment on column private.sign_in_failures.key is 'SHA-256 of the account or the address (never the text as typed).';
comment on column private.sign_in_failures.attempted_at is 'When the attempt was counted.';

create index sign_in_failures_key_idx on private.sign_in_failures (kind, key, attempted_at);
create index sign_in_failures_attempted_at_idx on private.sign_in_failures (attempted_at);

revoke all on table private.sign_in_failures from public, anon, authenticated, service_role, analyst;
alter table private.sign_in_failures enable row level security;

-- The milliseconds a key must still wait: 0 while it has fewer than `max` attempts in the
-- window, else until the oldest attempt that keeps it at the limit leaves the window.
create function private.sign_in_wait_ms(kind text, key bytea, max integer, window_ms integer, as_of timestamptz)
returns integer
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(
    (select greatest(1, ceil(extract(epoch from (f.attempted_at - sign_in_wait_ms.as_of)) * 1000 + sign_in_wait_ms.window_ms))::integer
       from private.sign_in_failures f
      where f.kind = sign_in_wait_ms.kind and f.key = sign_in_wait_ms.key
        and f.attempted_at > sign_in_wait_ms.as_of - make_interval(secs => sign_in_wait_ms.window_ms / 1000.0)
      order by f.attempted_at desc
     offset sign_in_wait_ms.max - 1
      limit 1),
    0)
$$;
comment on function private.sign_in_wait_ms(text, bytea, integer, integer, timestamptz) is
  'Milliseconds the sign-in key (kind, SHA-256) must wait at as_of: 0 below `max` attempts in the window, else until the attempt that keeps it at the limit leaves the window. Used by private.begin_sign_in_attempt.';

create function private.begin_sign_in_attempt(
  account text,
  address text,
  account_max integer default 5,
  address_max integer default 20,
  window_ms integer default 900000
)
returns table (attempt uuid, retry_after_ms integer)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  account_key bytea;
  address_key bytea;
  now_at timestamptz;
  wait integer;
  new_attempt uuid := gen_random_uuid();
begin
  if account is null or address is null then
    raise exception 'private.begin_sign_in_attempt: account and address are required' using errcode = '22023';
  end if;
  if account_max is null or account_max < 1 or address_max is null or address_max < 1
     or window_ms is null or window_ms < 1 then
    raise exception 'private.begin_sign_in_attempt: the limits and the window must be positive' using errcode = '22023';
  end if;
  account_key := sha256(convert_to(account, 'UTF8'));
  address_key := sha256(convert_to(address, 'UTF8'));
  -- One attempt per key at a time: the count and the insert below happen under these locks,
  -- so simultaneous attempts cannot all pass a check none of them is counted in yet. The
  -- account lock is always taken first, so two attempts never wait on each other in a cycle.
  perform pg_advisory_xact_lock(hashtext('beacon.sign_in_account'), hashtext(encode(account_key, 'hex')));
  perform pg_advisory_xact_lock(hashtext('beacon.sign_in_address'), hashtext(encode(address_key, 'hex')));
  now_at := clock_timestamp();

  -- Prune: these keys' old rows (under the locks), and a few others nobody is touching.
  delete from private.sign_in_failures f
   where f.attempted_at <= now_at - make_interval(secs => window_ms / 1000.0)
     and ((f.kind = 'account' and f.key = account_key) or (f.kind = 'address' and f.key = address_key));
  delete from private.sign_in_failures f
   where (f.attempt, f.kind) in (
     select o.attempt, o.kind from private.sign_in_failures o
      where o.attempted_at <= now_at - make_interval(secs => window_ms / 1000.0)
      order by o.attempted_at
      limit 100
        for update skip locked);

  wait := private.sign_in_wait_ms('account', account_key, account_max, window_ms, now_at);
  if wait = 0 then
    wait := private.sign_in_wait_ms('address', address_key, address_max, window_ms, now_at);
  end if;
  if wait > 0 then
    return query select null::uuid, wait;
    return;
  end if;
  insert into private.sign_in_failures (attempt, kind, key, attempted_at)
  values (new_attempt, 'account', account_key, now_at), (new_attempt, 'address', address_key, now_at);
  return query select new_attempt, 0;
end
$$;
comment on function private.begin_sign_in_attempt(text, text, integer, integer, integer) is
  'Counts a sign-in attempt for the account (lower-cased email) and the client address before the password is checked: when both are under their limit (account_max, address_max attempts within window_ms) it records the attempt, which counts as a failure until forgotten or cleared, and returns its id with retry_after_ms 0; otherwise it records nothing and returns a null attempt and the milliseconds to wait. Atomic per key (advisory locks); prunes rows older than the window.';

create function private.forget_sign_in_attempt(attempt uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  delete from private.sign_in_failures f where f.attempt = forget_sign_in_attempt.attempt;
$$;
comment on function private.forget_sign_in_attempt(uuid) is
  'Forgets a counted sign-in attempt that got no answer about the password (Auth or the database failed): it no longer counts for its account or its address.';

create function private.clear_sign_in_failures(account text, attempt uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  delete from private.sign_in_failures f
   where (f.kind = 'account' and f.key = sha256(convert_to(clear_sign_in_failures.account, 'UTF8')))
      or f.attempt = clear_sign_in_failures.attempt;
$$;
comment on function private.clear_sign_in_failures(text, uuid) is
  'After a successful sign-in: forgets the account''s failures, and this attempt for its address (the address keeps its other failures).';

revoke all on function private.sign_in_wait_ms(text, bytea, integer, integer, timestamptz)
  from public, anon, authenticated, service_role, analyst;
revoke all on function private.begin_sign_in_attempt(text, text, integer, integer, integer)
  from public, anon, authenticated, service_role, analyst;
revoke all on function private.forget_sign_in_attempt(uuid)
  from public, anon, authenticated, service_role, analyst;
revoke all on function private.clear_sign_in_failures(text, uuid)
  from public, anon, authenticated, service_role, analyst;
grant execute on function private.begin_sign_in_attempt(text, text, integer, integer, integer) to service_role;
grant execute on function private.forget_sign_in_attempt(uuid) to service_role;
grant execute on function private.clear_sign_in_failures(text, uuid) to service_role;
