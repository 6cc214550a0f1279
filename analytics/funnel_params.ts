/**
 * A funnel definition read from the URL (the page's and the API's, documented in
 * analytics/funnel.ts) and written back, and the SQL's refusals as parameter errors.
 *
 * @module
 */
import { ParamError, parseRange } from "./params.ts";
import { daysBetween } from "./days.ts";
import {
  FILTER_OPS,
  type FilterOp,
  type FunnelDefinition,
  type FunnelFilter,
  type FunnelStep,
  NAMED_FUNNELS,
} from "./funnel.ts";
const WINDOW = /^(\d{1,4})([dhm])$/;
/** A property or event name: 1 to 200 characters, none of them a control character. */
function isName(s: string): boolean {
  return s.length >= 1 && s.length <= 200 && [...s].every((ch) => ch >= " ");
}

function parseFilter(raw: string, steps: number): { step: number; filter: FunnelFilter } {
  const parts = raw.split(":");
  if (parts.length < 3) {
    throw new ParamError("filter", `must be <step>:<property>:<op>[:<value>], not "${raw}"`);
  }
  const [stepText, property, op] = parts;
  const value = parts.slice(3).join(":");
  const step = Number(stepText);
  if (!Number.isInteger(step) || step < 1 || step > steps) {
    throw new ParamError(
      "filter",
      `"${raw}" names step ${stepText}; there are steps 1 to ${steps}`,
    );
  }
  if (!isName(property)) throw new ParamError("filter", `"${raw}" needs a property name`);
  if (!(FILTER_OPS as readonly string[]).includes(op)) {
    throw new ParamError("filter", `"${raw}": op must be one of ${FILTER_OPS.join(", ")}`);
  }
  const o = op as FilterOp;
  if (o === "is_set" || o === "is_not_set") return { step, filter: { property, op: o } };
  if (parts.length < 4 || value === "") throw new ParamError("filter", `"${raw}" needs a value`);
  if (o === "gt" || o === "lt") {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new ParamError("filter", `"${raw}": ${o} needs a number`);
    return { step, filter: { property, op: o, value: n } };
  }
  if (o === "in") return { step, filter: { property, op: o, value: value.split(",") } };
  return { step, filter: { property, op: o, value } };
}

/**
 * Reads a funnel definition from the URL.
 *
 * @param params The query string.
 * @param today Today's UTC day.
 * @returns The definition, or null when the URL names no steps at all (the empty form).
 * @throws {ParamError} Naming the parameter at fault.
 */
export function parseFunnel(raw: URLSearchParams, today: string): FunnelDefinition | null {
  // A form sends its empty fields too: an empty value means the default.
  const params = new URLSearchParams([...raw].filter(([, v]) => v.trim() !== ""));
  let events = params.getAll("step").map((s) => s.trim()).filter((s) => s !== "");
  let window = params.get("window") ?? null;
  const name = params.get("funnel");
  let named: string | null = null;
  if (events.length === 0 && name) {
    const found = NAMED_FUNNELS.find((f) => f.name === name);
    if (!found) {
      throw new ParamError(
        "funnel",
        `must be one of ${NAMED_FUNNELS.map((f) => f.name).join(", ")}`,
      );
    }
    events = found.steps.map((s) => s.event);
    window ??= found.window;
    named = found.name;
  }
  if (events.length === 0) return null;
  if (events.length < 2 || events.length > 10) {
    throw new ParamError("step", `a funnel has 2 to 10 steps, not ${events.length}`);
  }
  for (const e of events) {
    if (!isName(e)) throw new ParamError("step", "an event type has 1 to 200 characters");
  }
  const steps: FunnelStep[] = events.map((event) => ({ event, filters: [] }));
  for (const raw of params.getAll("filter")) {
    if (raw.trim() === "") continue;
    const { step, filter } = parseFilter(raw, steps.length);
    steps[step - 1].filters.push(filter);
  }
  window ??= "14d";
  const w = WINDOW.exec(window);
  const days = w ? Number(w[1]) / (w[2] === "d" ? 1 : w[2] === "h" ? 24 : 1440) : 0;
  if (!w || days <= 0 || days > 365) {
    throw new ParamError(
      "window",
      "must be a number followed by d, h or m (e.g. 14d), from 1 minute to 365 days",
    );
  }
  const range = parseRange(params, today);
  if (daysBetween(range.from, range.to) > 366) {
    throw new ParamError("from", "a funnel reads at most 366 days; narrow the range");
  }
  const breakdown = params.get("breakdown")?.trim() || null;
  if (breakdown !== null && !isName(breakdown)) {
    throw new ParamError("breakdown", "must be a property name of 1 to 200 characters");
  }
  const top = Number(params.get("top") ?? 5);
  if (!Number.isInteger(top) || top < 1 || top > 50) {
    throw new ParamError("top", "must be a whole number from 1 to 50");
  }
  return { steps, from: range.from, to: range.to, window, breakdown, top, named };
}

/** The URL query of a definition (what {@linkcode parseFunnel} reads back). */
export function funnelQuery(d: FunnelDefinition): URLSearchParams {
  const q = new URLSearchParams();
  d.steps.forEach((s) => q.append("step", s.event));
  d.steps.forEach((s, i) =>
    s.filters.forEach((f) => {
      const value = f.value === undefined
        ? ""
        : `:${Array.isArray(f.value) ? f.value.join(",") : f.value}`;
      q.append("filter", `${i + 1}:${f.property}:${f.op}${value}`);
    })
  );
  q.set("from", d.from);
  q.set("to", d.to);
  q.set("window", d.window);
  if (d.breakdown) {
    q.set("breakdown", d.breakdown);
    q.set("top", String(d.top));
  }
  return q;
}

/**
 * The SQL's refusal of an argument (SQLSTATE 22023, the message naming the argument) as a
 * {@linkcode ParamError} naming the URL parameter; anything else is returned as it is.
 */
export function asParamError(error: unknown): unknown {
  if (
    typeof error !== "object" || error === null || (error as { code?: unknown }).code !== "22023"
  ) return error;
  const message = String((error as { message?: unknown }).message ?? "").replace(
    /^analytics\.\w+: /,
    "",
  );
  const field = /^conversion_window/.test(message)
    ? "window"
    : /^(from_day|to_day)/.test(message)
    ? "from"
    : /^steps\[\d+\]\.filters/.test(message)
    ? "filter"
    : /^breakdown_top/.test(message)
    ? "top"
    : /^breakdown/.test(message)
    ? "breakdown"
    : /^dropped_at/.test(message)
    ? "dropped_at"
    : "step";
  return new ParamError(field, message);
}
