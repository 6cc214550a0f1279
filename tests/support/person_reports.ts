/**
 * Independent TypeScript computations of the person reports (retention, lifecycle,
 * stickiness, feature adoption) from a list of events, and random data for them: persons
 * with several anonymous ids, links before and after their events, one device shared by
 * two users, events written in several UTC offsets and inserted out of order.
 *
 * @module
 */
import type { Queryable } from "../../database/mod.ts";
import { isoWithOffset, prng, utcDay } from "./random_data.ts";

const DAY_MS = 86_400_000;
const TYPES = ["page_view", "feature_used", "button_click", "goal_submitted", "user_signup"];
const OFFSETS = [0, 330, -480, 840, -600];

/** One event as stored, in arrival order. */
export interface PersonEvent {
  eventType: string;
  userId: string | null;
  anonymousId: string | null;
  /** Milliseconds since the epoch. */
  at: number;
}

function uuid(random: () => number): string {
  const h = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  h[12] = "4";
  h[16] = "8";
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** Random events over `days` days up to `now`, in the order they are to be inserted. */
export function generatePersonEvents(seed: number, now: number, days: number, count: number) {
  const random = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const users = Array.from({ length: 40 }, () => uuid(random));
  const devices = Array.from({ length: 70 }, (_, i) => `device-${seed}-${i}`);
  const events: PersonEvent[] = [];
  const at = () => now - Math.floor(random() * days * DAY_MS);
  for (let i = 0; i < count; i++) {
    const r = random();
    const userId = r < 0.5 ? pick(users) : null;
    // Signed-in events sometimes carry a device (a link); anonymous ones always do.
    const anonymousId = userId === null || random() < 0.15 ? pick(devices) : null;
    const eventType = random() < 0.08 ? "user_signup" : pick(TYPES.slice(0, 4));
    events.push({ eventType, userId, anonymousId, at: at() });
  }
  return events;
}

/** Inserts events in one statement, in the given order, timestamps in assorted offsets. */
export async function insertPersonEvents(db: Queryable, events: PersonEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `insert into public.events (event_type, user_id, anonymous_id, "timestamp")
     select x.e->>'event_type', (x.e->>'user_id')::uuid, x.e->>'anonymous_id', (x.e->>'ts')::timestamptz
       from jsonb_array_elements($1::text::jsonb) with ordinality as x (e, n)
      order by x.n`,
    [JSON.stringify(events.map((e, i) => ({
      event_type: e.eventType,
      user_id: e.userId,
      anonymous_id: e.anonymousId,
      ts: isoWithOffset(e.at, OFFSETS[i % OFFSETS.length]),
    })))],
  );
}

/** (day, person, type) facts: persons by the first link by arrival, UTC days. */
export function personFacts(events: PersonEvent[]) {
  const links = new Map<string, string>();
  for (const e of events) {
    if (e.userId && e.anonymousId && !links.has(e.anonymousId)) links.set(e.anonymousId, e.userId);
  }
  return events.map((e) => ({
    person: e.userId ?? links.get(e.anonymousId!) ?? e.anonymousId!,
    day: utcDay(e.at),
    type: e.eventType,
  }));
}

type Fact = ReturnType<typeof personFacts>[number];

function addDays(day: string, n: number): string {
  return utcDay(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);
}

/** The first day of the calendar period (week from Monday) holding `day`. */
export function periodStart(day: string, period: string): string {
  if (period === "day") return day;
  if (period === "month") return `${day.slice(0, 7)}-01`;
  const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(day, -weekday);
}

function periodIndex(day: string, origin: string, period: string): number {
  if (period === "month") {
    return (Number(day.slice(0, 4)) - Number(origin.slice(0, 4))) * 12 +
      Number(day.slice(5, 7)) - Number(origin.slice(5, 7));
  }
  const diff = (Date.parse(periodStart(day, period)) - Date.parse(origin)) / DAY_MS;
  return period === "week" ? Math.round(diff / 7) : Math.round(diff);
}

function nthPeriod(origin: string, n: number, period: string): string {
  if (period === "day") return addDays(origin, n);
  if (period === "week") return addDays(origin, 7 * n);
  const d = new Date(`${origin}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + n);
  return utcDay(d.getTime());
}

function pct(n: number, d: number): string | null {
  return d > 0 ? (Math.round((10000 * n) / d) / 100).toFixed(2) : null;
}

/** analytics.retention's rows, as `cohort|size|offset|retained|percentage` strings. */
export function expectedRetention(
  facts: Fact[],
  o: { fromDay: string; periods: number; period: string; start: string; ret: string | null },
  today: string,
): string[] {
  const origin = periodStart(o.fromDay, o.period);
  const firsts = new Map<string, string>();
  for (const f of facts) {
    if (f.type === o.start && (!firsts.has(f.person) || f.day < firsts.get(f.person)!)) {
      firsts.set(f.person, f.day);
    }
  }
  const cohortOf = new Map<string, number>();
  for (const [person, day] of firsts) {
    const i = periodIndex(day, origin, o.period);
    if (day >= origin && i < o.periods) cohortOf.set(person, i);
  }
  const active = new Set<string>();
  for (const f of facts) {
    if (o.ret !== null && f.type !== o.ret) continue;
    active.add(`${f.person}|${periodIndex(f.day, origin, o.period)}`);
  }
  const rows: string[] = [];
  const avg = new Map<number, [number, number]>();
  for (let i = 0; i < o.periods; i++) {
    const members = [...cohortOf].filter(([, c]) => c === i).map(([p]) => p);
    for (let k = 0; i + k < o.periods; k++) {
      if (nthPeriod(origin, i + k, o.period) > today) break;
      const kept = k === 0
        ? members.length
        : members.filter((p) => active.has(`${p}|${i + k}`)).length;
      rows.push(
        [nthPeriod(origin, i, o.period), members.length, k, kept, pct(kept, members.length)]
          .join("|"),
      );
      const [s, r] = avg.get(k) ?? [0, 0];
      avg.set(k, [s + members.length, r + kept]);
    }
  }
  for (const [k, [s, r]] of [...avg].sort((a, b) => a[0] - b[0])) {
    rows.push(["", s, k, r, pct(r, s)].join("|"));
  }
  return rows;
}

/** analytics.lifecycle's rows, as `bucket|status|persons`. */
export function expectedLifecycle(
  facts: Fact[],
  o: { fromDay: string; toDay: string; type: string | null; bucket: string },
): string[] {
  const origin = periodStart(o.fromDay, o.bucket);
  const last = periodIndex(o.toDay, origin, o.bucket);
  const mine = facts.filter((f) => o.type === null || f.type === o.type);
  const first = new Map<string, string>();
  const active = new Set<string>();
  const persons = new Set<string>();
  for (const f of mine) {
    if (!first.has(f.person) || f.day < first.get(f.person)!) first.set(f.person, f.day);
    active.add(`${f.person}|${periodIndex(f.day, origin, o.bucket)}`);
    persons.add(f.person);
  }
  const rows: string[] = [];
  for (let b = 0; b <= last; b++) {
    const c = { new: 0, returning: 0, resurrecting: 0, dormant: 0 };
    for (const p of persons) {
      const now = active.has(`${p}|${b}`);
      const before = active.has(`${p}|${b - 1}`);
      if (now && periodIndex(first.get(p)!, origin, o.bucket) === b) c.new++;
      else if (now && before) c.returning++;
      else if (now) c.resurrecting++;
      else if (before) c.dormant--;
    }
    const start = nthPeriod(origin, b, o.bucket);
    for (const [status, n] of Object.entries(c)) rows.push(`${start}|${status}|${n}`);
  }
  return rows;
}

/** analytics.stickiness's rows, as `period|days|persons`. */
export function expectedStickiness(
  facts: Fact[],
  o: { fromDay: string; toDay: string; type: string | null; period: string },
): string[] {
  const origin = periodStart(o.fromDay, o.period);
  const last = periodIndex(o.toDay, origin, o.period);
  const days = new Map<string, Set<string>>();
  for (const f of facts) {
    if ((o.type !== null && f.type !== o.type) || f.day < o.fromDay || f.day > o.toDay) continue;
    const key = `${periodIndex(f.day, origin, o.period)}|${f.person}`;
    days.set(key, (days.get(key) ?? new Set()).add(f.day));
  }
  const rows: string[] = [];
  const total = new Map<number, number>();
  for (let i = 0; i <= last; i++) {
    const start = nthPeriod(origin, i, o.period);
    const lo = start < o.fromDay ? o.fromDay : start;
    const end = addDays(nthPeriod(origin, i + 1, o.period), -1);
    const hi = end > o.toDay ? o.toDay : end;
    const length = (Date.parse(hi) - Date.parse(lo)) / DAY_MS + 1;
    for (let n = 1; n <= length; n++) {
      const count = [...days].filter(([k, s]) => k.startsWith(`${i}|`) && s.size === n).length;
      rows.push(`${start}|${n}|${count}`);
      total.set(n, (total.get(n) ?? 0) + count);
    }
  }
  for (const [n, count] of [...total].sort((a, b) => a[0] - b[0])) rows.push(`|${n}|${count}`);
  return rows;
}

/** analytics.feature_adoption's rows, as `type|persons|active|percentage`. */
export function expectedAdoption(
  facts: Fact[],
  o: { fromDay: string; toDay: string; top: number },
): string[] {
  const inRange = facts.filter((f) => f.day >= o.fromDay && f.day <= o.toDay);
  const active = new Set(inRange.map((f) => f.person)).size;
  const byType = new Map<string, Set<string>>();
  for (const f of inRange) byType.set(f.type, (byType.get(f.type) ?? new Set()).add(f.person));
  return [...byType]
    .map(([t, s]) => [t, s.size] as const)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, o.top)
    .map(([t, n]) => `${t}|${n}|${active}|${pct(n, active)}`);
}
