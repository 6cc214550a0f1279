-- =======================================================================================
-- Events inserted without an id get a time-ordered one (UUID version 7)
-- =======================================================================================
-- public.events.id defaulted to gen_random_uuid() (version 4, random). Every id lands in
-- private.event_ids, whose primary key then took each new id on a random page: once that
-- index is larger than memory, or right after each checkpoint (a full-page image per page
-- touched), inserts slow down as the table grows (issue 12's scale run: the API's insert
-- statement fell from 32 k to 15 k events/s over 50 M events, while the ids of one day were
-- in the table). A version 7 id (RFC 9562) starts with the millisecond it was made, so ids
-- made together sit together and the key grows at its right edge.
--
-- The default is an expression of built-in functions only (no function of Beacon's own):
-- anon, authenticated and service_role insert events, and none of them needs a privilege
-- more. Ids an app gives (supabase-js with an id, posthog-js's version 7 ids, Beacon's HTTP
-- API, whose own ids are version 7 too) are kept as they are; the contract is unchanged: a
-- uuid, unique within the idempotency horizon, a retry failing with 23505.

lock table public.events in access exclusive mode;

alter table public.events alter column id set default
  encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
              from 1 for 6),
      52, 1), 53, 1),
    'hex')::uuid;

comment on column public.events.id is
  'The event''s id: given by the app (a retry with the same id within the idempotency horizon fails with 23505), or made on insert as a time-ordered UUID version 7 (RFC 9562: the first 48 bits are the Unix time in milliseconds).';
