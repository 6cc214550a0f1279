/**
 * Random data for funnels: persons with several anonymous ids, links before and after their
 * events, a device shared by two users, events stored out of order, equal timestamps, trials
 * and paid subscriptions; and its loader.
 *
 * @module
 */
import type { Queryable } from "../../database/mod.ts";
import { isoWithOffset, prng } from "./random_data.ts";
import type { ModelEvent, ModelSubscription } from "./funnel_model.ts";

const DAY_MS = 86_400_000;

/** Random data for funnels: users, anonymous devices, events, subscriptions. */
export interface FunnelData {
  users: Array<{ id: string; createdAt: number }>;
  /** In arrival (insertion) order; includes the user_signup events the trigger records. */
  events: ModelEvent[];
  subscriptions: ModelSubscription[];
}

function uuidFrom(random: () => number): string {
  const h = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  h[12] = "4";
  h[16] = "8";
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** Generates funnel data over `days` days before `now`. */
export function generateFunnelData(seed: number, now: number, days = 20, people = 80): FunnelData {
  const random = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const start = now - days * DAY_MS;
  // Times on a coarse grid (whole minutes) often, so equal timestamps happen.
  const when = (from: number, to: number) => {
    const t = Math.floor(from + random() * Math.max(1, to - from));
    return random() < 0.4 ? t - (t % 60_000) : t;
  };
  const users = Array.from(
    { length: people },
    () => ({ id: uuidFrom(random), createdAt: when(start, now - 60_000) }),
  );
  const events: ModelEvent[] = [];
  const types = ["a", "b", "c", "d"];
  const payload = () => {
    const p: Record<string, unknown> = {};
    if (random() < 0.7) p.src = pick(["ads", "blog", "mail", "news"]);
    if (random() < 0.6) p.plan = pick(["free", "pro", "Pro-Team"]);
    if (random() < 0.5) p.n = Math.floor(random() * 100);
    return p;
  };
  const devices = Array.from({ length: people * 2 }, (_, i) => `dev-${seed}-${i}`);
  for (const d of devices) {
    const owner = random() < 0.7 ? pick(users) : null;
    const count = 1 + Math.floor(random() * 12);
    for (let i = 0; i < count; i++) {
      // Anonymous before and after the link; sometimes signed in on the device (a link).
      const signedIn = owner !== null && random() < 0.25;
      const other = random() < 0.1 ? pick(users) : owner; // a shared device
      events.push({
        type: pick(types),
        userId: signedIn ? other!.id : null,
        anonymousId: d,
        payload: payload(),
        at: when(start, now),
      });
    }
  }
  for (const u of users) {
    const count = Math.floor(random() * 15);
    for (let i = 0; i < count; i++) {
      events.push({
        type: pick(types),
        userId: u.id,
        anonymousId: null,
        payload: payload(),
        at: when(u.createdAt, now),
      });
    }
  }
  // Out of order: arrival order unrelated to time.
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  const signups: ModelEvent[] = users.map((u) => ({
    type: "user_signup",
    userId: u.id,
    anonymousId: null,
    payload: { provider: "email" },
    at: u.createdAt,
  }));
  const subscriptions: ModelSubscription[] = [];
  for (const u of users) {
    if (random() < 0.4) continue;
    const startedAt = when(u.createdAt, now);
    const trialEndsAt = random() < 0.6 ? startedAt + Math.floor(random() * 10) * DAY_MS : null;
    const roll = random();
    const status = trialEndsAt !== null && trialEndsAt > now
      ? "trialing"
      : roll < 0.3
      ? "canceled"
      : roll < 0.4
      ? "past_due"
      : "active";
    const canceledAt = status === "canceled"
      ? startedAt + Math.floor(random() * 12 * DAY_MS)
      : null;
    subscriptions.push({
      userId: u.id,
      plan: pick(["pro", "team"]),
      status,
      startedAt,
      trialEndsAt,
      canceledAt,
    });
  }
  return { users, events: [...signups, ...events], subscriptions };
}

/** Stores funnel data: users (whose signups the trigger records), events in one statement, subscriptions. */
export async function loadFunnelData(db: Queryable, data: FunnelData): Promise<void> {
  const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString();
  await db.query(
    `insert into auth.users (id, email, aud, role, raw_app_meta_data, created_at)
     select u.id, u.id || '@funnel.test', 'authenticated', 'authenticated', '{"provider":"email"}', u.at::timestamptz
       from jsonb_to_recordset($1::text::jsonb) as u (id uuid, at text)`,
    [JSON.stringify(data.users.map((u) => ({ id: u.id, at: iso(u.createdAt) })))],
  );
  const offsets = [0, 330, -480, 840, -600];
  await db.query(
    `insert into public.events (event_type, user_id, anonymous_id, payload, "timestamp")
     select x.e ->> 't', (x.e ->> 'u')::uuid, x.e ->> 'a', x.e -> 'p', (x.e ->> 'ts')::timestamptz
       from jsonb_array_elements($1::text::jsonb) with ordinality as x (e, o)
      order by x.o`,
    [JSON.stringify(
      data.events.filter((e) => e.type !== "user_signup").map((e, i) => ({
        t: e.type,
        u: e.userId,
        a: e.anonymousId,
        p: e.payload,
        ts: isoWithOffset(e.at, offsets[i % offsets.length]),
      })),
    )],
  );
  await db.query(
    `insert into public.subscriptions (user_id, plan, status, amount_cents, started_at, trial_ends_at, canceled_at)
     select s.u, s.plan, s.status, 1000, s.st::timestamptz, s.te::timestamptz, s.ca::timestamptz
       from jsonb_to_recordset($1::text::jsonb) as s (u uuid, plan text, status text, st text, te text, ca text)`,
    [JSON.stringify(data.subscriptions.map((s) => ({
      u: s.userId,
      plan: s.plan,
      status: s.status,
      st: iso(s.startedAt),
      te: iso(s.trialEndsAt),
      ca: iso(s.canceledAt),
    })))],
  );
}
