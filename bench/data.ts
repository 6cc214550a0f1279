/**
 * Benchmark data made in the database itself: events spread evenly over the last 90 days,
 * a quarter anonymous, from a pool of users; plus users and subscriptions.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";

/** Events per generated chunk: each chunk spreads evenly over the whole 90 days. */
export const CHUNK = 1_000_000;

/**
 * Inserts one chunk of a million events spread over the 90 days up to now, so that after
 * n chunks the data holds n million events with the same shape.
 *
 * @param db The database (as its owner).
 * @param chunk Which chunk (0, 1, ...): keeps ids and timestamps apart between chunks.
 * @param users How many distinct signed-in users the events come from.
 * @param size Events in the chunk. @default {CHUNK}
 * @param table The table to fill (another with the same columns, for side-by-side sizes).
 */
export async function generateEventChunk(
  db: Queryable,
  chunk: number,
  users: number,
  size = CHUNK,
  table = "public.events",
): Promise<void> {
  await db.query(
    `insert into ${table} (event_type, user_id, anonymous_id, payload, "timestamp")
     select (array['page_view', 'page_view', 'feature_used', 'button_click', 'goal_submitted', 'checkout_started'])[1 + (g % 6)],
            case when g % 4 = 0 then null
                 else ('00000000-0000-4000-8000-' || lpad((((g + $3::bigint * 7) * 7919) % $1::int)::text, 12, '0'))::uuid end,
            case when g % 4 = 0 then 'anon-' || (((g + $3::bigint) * 104729) % ($1::int * 2)) end,
            jsonb_build_object('path', '/page/' || (g % 50), 'n', g % 1000),
            now() - (((g::float8 + $3::float8 / 10) / $2::bigint) * 90 * 86400) * interval '1 second'
       from generate_series(1, $2::bigint) as g`,
    [users, size, chunk],
  );
}

/**
 * Inserts `count` events all on one UTC day (for timing the aggregation of a heavy day).
 *
 * @param db The database.
 * @param day The UTC day, `YYYY-MM-DD`.
 * @param count How many events.
 * @param users How many distinct users.
 */
export async function generateDay(
  db: Queryable,
  day: string,
  count: number,
  users: number,
): Promise<void> {
  await db.query(
    `insert into public.events (event_type, user_id, anonymous_id, payload, "timestamp")
     select (array['page_view', 'feature_used', 'button_click'])[1 + (g % 3)],
            case when g % 4 = 0 then null
                 else ('00000000-0000-4000-8000-' || lpad(((g * 7919) % $3::int)::text, 12, '0'))::uuid end,
            case when g % 4 = 0 then 'anon-' || (g % 5000) end,
            jsonb_build_object('n', g % 1000),
            $1::date::timestamp at time zone 'UTC' + ((g::float8 / $2::bigint) * 86399) * interval '1 second'
       from generate_series(1, $2::bigint) as g`,
    [day, count, users],
  );
}

/**
 * Inserts users (through auth.users, so profiles and signup events follow) and a
 * subscription for a third of them.
 *
 * @param db The database (as its owner).
 * @param users How many users.
 */
export async function generateUsers(db: Queryable, users: number): Promise<void> {
  await db.query(
    `insert into auth.users (id, email, created_at)
     select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'user' || g || '@bench.test',
            now() - ((g::float8 / $1::int) * 90 * 86400) * interval '1 second'
       from generate_series(0, $1::int - 1) as g`,
    [users],
  );
  await db.query(
    `insert into public.subscriptions (user_id, plan, status, amount_cents, started_at, canceled_at)
     select u.id, (array['starter', 'pro', 'business'])[1 + (u.g % 3)::int],
            case when u.g % 5 = 0 then 'canceled' else 'active' end,
            (array[1900, 4900, 19900])[1 + (u.g % 3)::int],
            u.created_at + interval '1 day',
            case when u.g % 5 = 0 then u.created_at + interval '20 days' end
       from (select id, created_at, row_number() over (order by id) as g from auth.users) as u
      where u.g % 3 = 0 and u.created_at + interval '20 days' < now()`,
  );
}
