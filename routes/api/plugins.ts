/**
 * `POST /api/v1/plugins/:name/replay`: a superuser hands a plugin's dead letters
 * (`beacon.plugin_dead_letters`) to it again, once its destination is fixed. The body must be
 * JSON (`{}`), so a form on another site cannot trigger it with a signed-in browser's cookie.
 * Answers `{plugin, replayed, failed, last_error}`; 404 for a plugin not configured; 502
 * when the destination is still unreachable (nothing is lost: try again later).
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../_deps.ts";
import { requireSuperuserApi } from "../_guards.tsx";
import { ApiError } from "../../http/errors.ts";
import type { ReplayResult } from "../../plugins/dead_letters.ts";

/**
 * Replays a configured plugin's dead letters through the running forwarder.
 *
 * @param c The request context.
 * @param name The plugin's name.
 * @returns What the replay did.
 * @throws {ApiError} 404 for an unknown plugin, 502 when the destination cannot be reached.
 */
export async function replayPlugin(c: Context<AppEnv>, name: string): Promise<ReplayResult> {
  const { forwarder, config } = c.var.deps;
  if (!forwarder || !config.plugins.some((p) => p.name === name)) {
    throw new ApiError(404, "unknown_plugin", `no plugin named "${name}" is configured`, {
      field: "name",
    });
  }
  try {
    return await forwarder.replay(name);
  } catch (error) {
    c.var.deps.log.warn("dead letter replay failed", { plugin: name, error });
    throw new ApiError(
      502,
      "destination_unavailable",
      `the destination of ${name} could not take the events now; the dead letters are kept: ${
        error instanceof Error ? error.message : String(error)
      }`.slice(0, 500),
    );
  }
}

const plugins = new Hono<AppEnv>();
plugins.use("/:name/replay", requireSuperuserApi());
plugins.post("/:name/replay", async (c) => {
  if (!/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError(415, "unsupported_media_type", "send Content-Type: application/json");
  }
  const result = await replayPlugin(c, c.req.param("name"));
  return c.json({
    plugin: result.plugin,
    replayed: result.replayed,
    failed: result.failed,
    last_error: result.lastError,
  });
});

export default plugins;
