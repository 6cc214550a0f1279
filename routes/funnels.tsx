/**
 * `/analytics/funnels`: the step editor (a GET form, so the address holds the definition),
 * the funnel's bars and table, its breakdown, CSV, and who dropped off, all read as the
 * signed-in user. A refused definition is shown beside the form (400); an empty one asks
 * for steps; one too broad to answer in time says so.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "./_deps.ts";
import { Layout } from "../components/Layout.tsx";
import { FunnelForm } from "../components/FunnelForm.tsx";
import { FunnelResult } from "../components/FunnelResult.tsx";
import { sendPage } from "./_page.ts";
import { asViewer, csrfToken } from "./_viewer.ts";
import { requireSuperuserPage } from "./_guards.tsx";
import { ParamError } from "../analytics/params.ts";
import { readBreakdown } from "../analytics/reads.ts";
import { addDays, todayUtc } from "../analytics/days.ts";
import {
  type DroppedPerson,
  type FunnelRow,
  NAMED_FUNNELS,
  readDropoffs,
  readFunnel,
} from "../analytics/funnel.ts";
import { asParamError, funnelQuery, parseFunnel } from "../analytics/funnel_params.ts";

const DERIVED_TYPES = ["$anonymous", "subscription_trial_started", "subscription_paid"];

const funnels = new Hono<AppEnv>();
funnels.use("/analytics/funnels", requireSuperuserPage());

function isTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { code?: unknown }).code === "57014";
}

funnels.get("/analytics/funnels", async (c: Context<AppEnv>) => {
  const params = new URL(c.req.url).searchParams;
  const today = todayUtc();
  let error: { field: string; message: string } | null = null;
  let notice: string | null = null;
  let definition = null;
  let rows: FunnelRow[] = [];
  let dropoffs: { step: number; persons: DroppedPerson[] } | null = null;
  let eventTypes: string[] = [];
  try {
    definition = parseFunnel(params, today);
    const d = definition;
    const droppedAt = params.has("dropped_at") ? Number(params.get("dropped_at")) : null;
    if (
      d && droppedAt !== null &&
      (!Number.isInteger(droppedAt) || droppedAt < 2 || droppedAt > d.steps.length)
    ) {
      throw new ParamError("dropped_at", `must be a step from 2 to ${d.steps.length}`);
    }
    const read = await asViewer(c, async (tx) => {
      const types = (await readBreakdown(tx, addDays(today, -89), today, 100)).map((t) =>
        t.eventType
      );
      if (!d) return { types, rows: [], persons: null };
      const rows = await readFunnel(tx, d);
      const persons = droppedAt === null ? null : await readDropoffs(tx, d, droppedAt, 100);
      return { types, rows, persons };
    }).catch((e) => {
      throw asParamError(e);
    });
    eventTypes = [...DERIVED_TYPES, ...read.types.sort()];
    rows = read.rows;
    if (read.persons !== null) {
      dropoffs = { step: Number(params.get("dropped_at")), persons: read.persons };
    }
    if (!d) notice = "Choose 2 to 10 steps (an event type each, in order), or open a named funnel.";
    else if (rows[0]?.persons === 0) {
      notice =
        "Nobody entered this funnel in the range: check the first step's event type and filters, or widen the range.";
    }
  } catch (e) {
    if (e instanceof ParamError) error = { field: e.field, message: e.message };
    else if (isTimeout(e)) {
      notice =
        "This funnel is too broad to answer in time: narrow the range, the window or the first step.";
    } else throw e;
  }
  const claims = c.var.viewer.claims;
  const named = definition?.named ? NAMED_FUNNELS.find((f) => f.name === definition!.named) : null;
  return sendPage(
    c,
    <Layout
      title="Funnels"
      current="funnels"
      email={claims.email ?? claims.sub}
      csrf={csrfToken(c)}
    >
      <h1>Funnels{named ? `: ${named.title}` : ""}</h1>
      <p class="muted">
        {named
          ? named.description
          : "Persons (a user with every anonymous id linked to them) who did the steps in order, each within the conversion window of the first."}
        {" "}
        Days are UTC days.
      </p>
      <FunnelForm definition={definition} params={params} eventTypes={eventTypes} error={error} />
      {notice && <p class="card" role="status">{notice}</p>}
      {definition && !error && rows.length > 0 && rows[0].persons > 0 && (
        <FunnelResult rows={rows} query={funnelQuery(definition).toString()} dropoffs={dropoffs} />
      )}
    </Layout>,
    error ? 400 : 200,
  );
});

export default funnels;
