/**
 * `POST /api/v1/plugins/drain`: one bounded, idempotent round of plugin delivery
 * (`plugins/drain.ts`), for deployments without a background loop. pg_cron calls it every
 * minute through pg_net on Supabase, `Deno.cron` on Deno Deploy. Authorised by
 * `Authorization: Bearer <secret>` (`config.drain.secret`: `BEACON_DRAIN_SECRET`, else the
 * project's service role / secret key); off (404) where no secret is configured. Answers
 * `{"plugins": [{"name", "status", "delivered", "lag", "error"?}], "elapsed_ms"}`.
 *
 * @module
 */
import { Hono } from "hono";
import { createHash, timingSafeEqual } from "node:crypto";
import type { AppEnv } from "../_deps.ts";
import { ApiError } from "../../http/errors.ts";
import { drainPlugins } from "../../plugins/drain.ts";

function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const drain = new Hono<AppEnv>();

drain.post("/", async (c) => {
  const { config, db, log, forwarder } = c.var.deps;
  const secret = config.drain.secret;
  if (!secret) {
    throw new ApiError(
      404,
      "drain_disabled",
      "plugin drains are off: set BEACON_DRAIN_SECRET (on Supabase the service role key is used)",
    );
  }
  const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (!given || !sameSecret(given, secret)) {
    throw new ApiError(401, "unauthorized", "send Authorization: Bearer <the drain secret>");
  }
  if (forwarder) {
    throw new ApiError(
      409,
      "forwarder_running",
      "this Beacon delivers to plugins continuously with its own loop; drains are for the edge",
    );
  }
  const report = await drainPlugins({
    db,
    plugins: config.plugins,
    batchSize: config.forwarder.batchSize,
    budgetMs: config.drain.budgetMs,
    log: log.child({ component: "drain" }),
  });
  return c.json({ plugins: report.plugins, elapsed_ms: report.elapsedMs });
});

export default drain;
