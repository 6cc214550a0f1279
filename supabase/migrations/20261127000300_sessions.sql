-- =======================================================================================
-- Beacon sign-in sessions, kept on the server
-- =======================================================================================
-- The session cookie carries only a random secret; its SHA-256 is the row's id. Every
-- request looks the row up, so signing out (revoked_at) ends the session at once. In
-- Supabase mode the row also keeps the user's Supabase access and refresh tokens, which never
-- reach the browser. Schema `beacon` is not exposed over the API and no API role may read it.

create table beacon.sessions (
  id text primary key check (id ~ '^[0-9a-f]{64}$'),
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  refreshed_at timestamptz,
  access_token text,
  refresh_token text
);
comment on table beacon.sessions is
  'Signed-in dashboard sessions. The cookie holds a secret whose SHA-256 is id; a row ends at expires_at or when revoked (sign-out).';
comment on column beacon.sessions.id is 'SHA-256 (hex) of the secret in the session cookie; the secret itself is never stored.';
comment on column beacon.sessions.user_id is 'The signed-in user.';
comment on column beacon.sessions.expires_at is 'When the session ends; in Supabase mode each token refresh moves it on.';
comment on column beacon.sessions.revoked_at is 'When the user signed out; a revoked session is refused.';
comment on column beacon.sessions.refreshed_at is 'Supabase mode: when the access token was last refreshed.';
comment on column beacon.sessions.access_token is 'Supabase mode: the current Supabase access token (null for local accounts).';
comment on column beacon.sessions.refresh_token is 'Supabase mode: the Supabase refresh token used to renew the access token.';

create index sessions_user_id_idx on beacon.sessions (user_id);
create index sessions_expires_at_idx on beacon.sessions (expires_at);

revoke all on table beacon.sessions from public, anon, authenticated, service_role, analyst;
alter table beacon.sessions enable row level security;
