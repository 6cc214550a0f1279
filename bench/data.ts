/**
 * Benchmark data made in the database itself: events spread evenly over the last 90 days,
 * a quarter anonymous, from a pool of users; plus users and subscriptions.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";

/**
 * Inserts `count` events spread over the 90 days up to now, in chunks of a million rows.
 *
 * @param db The database (as its owner).
 * @param count How many events.
 * @param users How many distinct signed-in users they come from.
 */
export async function generateEvents(db: Queryable, count: number, users: number): Promise<void> {
  const chunk = 1_000_000;
  for (let start = 0; start < count; start += chunk) {
    const end = Math.min(count, start + chunk);
    await db.query(
      `insert into public.events (event_type, user_id, anonymous_id, payload, "timestamp")
       select (array['page_view', 'page_view', 'feature_used', 'button_click', 'goal_submitted', 'checkout_started'])[1 + (g % 6)],
              case when g % 4 = 0 then null
                   else ('00000000-0000-4000-8000-' || lpad(((g * 7919) % $3)::text, 12, '0'))::uuid end,
              case when g % 4 = 0 then 'anon-' || ((g * 104729) % ($3 * 2)) end,
              jsonb_build_object('path', '/page/' || (g % 50), 'n', g % 1000),
              now() - ((g::float8 / $4) * 90 * 86400) * interval '1 second'
         from generate_series($1::bigint, $2::bigint) as g`,
      [start + 1, end, users, count],
    );
  }
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
            now() - ((g::float8 / $1) * 90 * 86400) * interval '1 second'
       from generate_series(0, $1 - 1) as g`,
    [users],
  );
  await db.query(
    `insert into public.subscriptions (user_id, plan, status, amount_cents, started_at, canceled_at)
     select u.id, (array['starter', 'pro', 'business'])[1 + (g % 3)],
            case when g % 5 = 0 then 'canceled' else 'active' end,
            (array[1900, 4900, 19900])[1 + (g % 3)],
            u.created_at + interval '1 day',
            case when g % 5 = 0 then u.created_at + interval '20 days' end
       from (select id, created_at, row_number() over (order by id) as g from auth.users) as u
      where u.g % 3 = 0 and u.created_at + interval '20 days' < now()`,
  );
}
