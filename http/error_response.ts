/**
 * The app's last word on an error: an {@linkcode ApiError} (a domain error that knows its
 * status) is answered with its JSON body; Hono's own `HTTPException`s keep their status; an
 * unreachable database is a 503; anything else a 500. All in Beacon's JSON error style.
 *
 * @module
 */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { isUnavailable } from "../database/errors.ts";
import type { Logger } from "../log/mod.ts";
import { ApiError } from "./errors.ts";

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

/** What the error handler reads from the context: the request's id, when set. */
type RequestIdEnv = { Variables: { requestId?: string } };

/**
 * Creates the app's error handler; `app.onError(errorResponse(log))`.
 *
 * - {@linkcode ApiError}: its status and `{"error": code, "field"?, "message"}`, with
 *   `retry-after` when it says when to try again.
 * - Any other `HTTPException` with a response of its own: that response; without: its
 *   status, with `error` named after the status, its message and the request id.
 * - The database unavailable ({@linkcode isUnavailable}, decided by error codes):
 *   `503 {"error": "unavailable"}` with `Retry-After`.
 * - Anything else: logged, `500 {"error": "internal_error"}` (no details leak).
 *
 * @param log Where unexpected errors are logged.
 * @returns The handler.
 */
export function errorResponse(log: Logger): ErrorHandler {
  return function respondToError(error: Error, c: Context<RequestIdEnv>): Response {
    const requestId = c.get("requestId");
    if (error instanceof ApiError) {
      if (error.retryAfterSeconds !== undefined) {
        c.header("retry-after", String(error.retryAfterSeconds));
      }
      return c.json(error.toJSON(), error.status);
    }
    if (error instanceof HTTPException) {
      if (error.res) return error.getResponse();
      return c.json({
        error: HTTP_ERROR_CODES[error.status] ?? `http_${error.status}`,
        message: error.message || `the request was refused (${error.status})`,
        request_id: requestId,
      }, error.status);
    }
    log.error("request failed", { request_id: requestId, error });
    if (isUnavailable(error)) {
      return c.json(
        {
          error: "unavailable",
          message: "the database is unavailable; nothing was stored, try again",
          request_id: requestId,
        },
        503,
        { "retry-after": "2" },
      );
    }
    return c.json({
      error: "internal_error",
      message: "something went wrong on Beacon's side; nothing was stored",
      request_id: requestId,
    }, 500);
  } as ErrorHandler;
}
