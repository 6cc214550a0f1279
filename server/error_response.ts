/**
 * The app's last word on an error no route handled: Hono's own `HTTPException`s keep their
 * status, an unreachable database is a 503, anything else a 500; all in Beacon's JSON
 * error style `{"error", "message", "request_id"}`.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { isUnavailable } from "../database/errors.ts";
import type { AppEnv } from "./app_env.ts";

/** Beacon's error codes for the statuses an `HTTPException` may carry. */
const HTTP_ERROR_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  408: "request_timeout",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "too_many_requests",
};

/**
 * Answers an error thrown by a route or middleware; `app.onError(errorResponse)`.
 *
 * - `HTTPException` with a response of its own: that response; without: its status, with
 *   `error` named after the status and its message.
 * - The database unavailable ({@linkcode isUnavailable}): `503 {"error": "unavailable"}`
 *   with `Retry-After`.
 * - Anything else: logged, `500 {"error": "internal_error"}` (no details leak).
 *
 * @param error What was thrown.
 * @param c The request's context.
 * @returns The response.
 */
export function errorResponse(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof HTTPException) {
    if (error.res) return error.getResponse();
    return c.json({
      error: HTTP_ERROR_CODES[error.status] ?? `http_${error.status}`,
      message: error.message || `the request was refused (${error.status})`,
      request_id: c.var.requestId,
    }, error.status);
  }
  c.var.deps.log.error("request failed", { request_id: c.var.requestId, error });
  if (isUnavailable(error)) {
    return c.json(
      {
        error: "unavailable",
        message: "the database is unavailable; nothing was stored, try again",
        request_id: c.var.requestId,
      },
      503,
      { "retry-after": "2" },
    );
  }
  return c.json({
    error: "internal_error",
    message: "something went wrong on Beacon's side; nothing was stored",
    request_id: c.var.requestId,
  }, 500);
}
