/**
 * Funnels computed in TypeScript, independently of the SQL, from the definition documented
 * on analytics.funnel. The random data that exercises it is in funnel_data.ts.
 *
 * @module
 */

const DAY_MS = 86_400_000;

/** A filter of a step, as analytics.funnel takes it. */
export interface ModelFilter {
  property: string;
  op: "eq" | "neq" | "contains" | "is_set" | "is_not_set" | "in" | "gt" | "lt";
  value?: unknown;
}

/** A step of a funnel. */
export interface ModelStep {
  event: string;
  filters?: ModelFilter[];
}

/** An event as the model sees it, in arrival order. */
export interface ModelEvent {
  type: string;
  userId: string | null;
  anonymousId: string | null;
  payload: Record<string, unknown>;
  at: number;
}

/** A subscription, reduced to what funnels read. */
export interface ModelSubscription {
  userId: string;
  plan: string;
  status: "trialing" | "active" | "past_due" | "canceled";
  startedAt: number;
  trialEndsAt: number | null;
  canceledAt: number | null;
}

/** One row of analytics.funnel, numbers as numbers. */
export interface ModelRow {
  rank: number;
  value: string | null;
  step: number;
  persons: number;
  fromPrevious: number | null;
  fromFirst: number | null;
  p50: number | null;
  p90: number | null;
}

/** A person's counted attempt. */
export interface ModelAttempt {
  person: string;
  isUser: boolean;
  value: string | null;
  times: number[];
}

function matches(step: ModelStep, e: ModelEvent): boolean {
  if (step.event === "$anonymous" ? e.userId !== null : e.type !== step.event) return false;
  for (const f of step.filters ?? []) {
    const raw = e.payload[f.property];
    const text = raw === undefined || raw === null ? null : String(raw);
    const ok = (() => {
      switch (f.op) {
        case "eq":
          return text !== null && text === String(f.value);
        case "neq":
          return text === null || text !== String(f.value);
        case "contains":
          return text !== null && text.toLowerCase().includes(String(f.value).toLowerCase());
        case "in":
          return text !== null && (f.value as unknown[]).map(String).includes(text);
        case "gt":
          return typeof raw === "number" && raw > (f.value as number);
        case "lt":
          return typeof raw === "number" && raw < (f.value as number);
        case "is_set":
          return f.property in e.payload;
        case "is_not_set":
          return !(f.property in e.payload);
      }
    })();
    if (!ok) return false;
  }
  return true;
}

/** Events made from subscriptions, as private.subscription_events defines them. */
export function subscriptionEvents(subs: ModelSubscription[], now: number): ModelEvent[] {
  const out: ModelEvent[] = [];
  for (const s of subs) {
    const payload = { plan: s.plan, status: s.status };
    if (s.trialEndsAt !== null && s.trialEndsAt > s.startedAt) {
      out.push({
        type: "subscription_trial_started",
        userId: s.userId,
        anonymousId: null,
        payload,
        at: s.startedAt,
      });
    }
    const paid = Math.max(s.startedAt, s.trialEndsAt ?? s.startedAt);
    if (s.status !== "trialing" && paid <= now && (s.canceledAt === null || s.canceledAt > paid)) {
      out.push({
        type: "subscription_paid",
        userId: s.userId,
        anonymousId: null,
        payload,
        at: paid,
      });
    }
  }
  return out;
}

/** Every person's counted attempt (the ordered-funnel rules of analytics.funnel). */
export function modelAttempts(
  events: ModelEvent[],
  steps: ModelStep[],
  fromDay: string,
  toDay: string,
  windowMs: number,
  breakdown: string | null,
): ModelAttempt[] {
  const links = new Map<string, string>();
  for (const e of events) {
    if (e.userId !== null && e.anonymousId !== null && !links.has(e.anonymousId)) {
      links.set(e.anonymousId, e.userId);
    }
  }
  const lo = Date.parse(`${fromDay}T00:00:00Z`);
  const hiEnter = Date.parse(`${toDay}T00:00:00Z`) + DAY_MS;
  type Moment = { at: number; mask: number; value: string | null };
  const persons = new Map<string, { isUser: boolean; moments: Map<number, Moment> }>();
  for (const e of events) {
    let mask = 0;
    steps.forEach((s, i) => {
      if (matches(s, e)) mask |= 1 << i;
    });
    if (mask === 0) continue;
    const linked = e.userId ?? (e.anonymousId !== null ? links.get(e.anonymousId) : undefined);
    const person = linked ?? e.anonymousId!;
    const entry = persons.get(person) ?? { isUser: linked !== undefined, moments: new Map() };
    persons.set(person, entry);
    const m = entry.moments.get(e.at) ?? { at: e.at, mask: 0, value: null };
    m.mask |= mask;
    const v = breakdown === null ? undefined : e.payload[breakdown];
    if ((mask & 1) && v !== undefined && v !== null) {
      const s = String(v);
      if (m.value === null || s < m.value) m.value = s;
    }
    entry.moments.set(e.at, m);
  }
  const out: ModelAttempt[] = [];
  for (const [person, { isUser, moments }] of persons) {
    const sorted = [...moments.values()].sort((a, b) => a.at - b.at);
    let best: ModelAttempt | null = null;
    for (const entry of sorted) {
      if (!(entry.mask & 1) || entry.at < lo || entry.at >= hiEnter) continue;
      const times = [entry.at];
      for (let k = 1; k < steps.length; k++) {
        const next = sorted.find((m) => m.at > times[times.length - 1] && (m.mask & (1 << k)));
        if (!next || next.at > entry.at + windowMs) break;
        times.push(next.at);
      }
      if (best === null || times.length > best.times.length) {
        best = { person, isUser, value: entry.value, times };
      }
    }
    if (best) out.push(best);
  }
  return out;
}

function percentileCont(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The rows analytics.funnel should answer. */
export function modelFunnel(
  attempts: ModelAttempt[],
  steps: number,
  breakdown: string | null,
  top: number,
): ModelRow[] {
  const groups: Array<{ rank: number; value: string | null; members: ModelAttempt[] }> = [
    { rank: 0, value: null, members: attempts },
  ];
  if (breakdown !== null) {
    const counts = new Map<string, number>();
    for (const a of attempts) {
      counts.set(a.value ?? "(none)", (counts.get(a.value ?? "(none)") ?? 0) + 1);
    }
    const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top);
    ranked.forEach(([value], i) =>
      groups.push({
        rank: i + 1,
        value,
        members: attempts.filter((a) => (a.value ?? "(none)") === value),
      })
    );
    const kept = new Set(ranked.map(([v]) => v));
    const other = attempts.filter((a) => !kept.has(a.value ?? "(none)"));
    if (other.length > 0) groups.push({ rank: top + 1, value: "(other)", members: other });
  }
  const rows: ModelRow[] = [];
  for (const g of groups) {
    const counts: number[] = [];
    for (let k = 1; k <= steps; k++) {
      const reached = g.members.filter((a) => a.times.length >= k);
      counts.push(reached.length);
      const gaps = k === 1 ? [] : reached.map((a) => (a.times[k - 1] - a.times[k - 2]) / 1000);
      const prev = k === 1 ? reached.length : counts[k - 2];
      rows.push({
        rank: g.rank,
        value: g.value,
        step: k,
        persons: reached.length,
        fromPrevious: prev === 0 ? null : Math.round((reached.length / prev) * 10000) / 10000,
        fromFirst: counts[0] === 0
          ? null
          : Math.round((reached.length / counts[0]) * 10000) / 10000,
        p50: percentileCont(gaps, 0.5),
        p90: percentileCont(gaps, 0.9),
      });
    }
  }
  return rows;
}
