/**
 * Beacon's one error style for HTTP answers: a domain error that knows its status extends
 * {@linkcode ApiError} (itself Hono's `HTTPException`), a route throws it, and the app's one
 * `onError` (`http/error_response.ts`) answers `{"error": code, "field"?, "message"}`.
 *
 * @module
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The JSON body of an {@linkcode ApiError}. */
export interface ApiErrorBody {
  /** A short machine-readable code, e.g. `invalid_parameter`. */
  error: string;
  /** The parameter or field at fault, when there is one. */
  field?: string;
  /** What is wrong, for a person. */
  message: string;
}

/** Options for {@linkcode ApiError}. */
export interface ApiErrorOptions {
  /** The parameter or field at fault. @default {undefined} */
  field?: string;
  /** For 429 and 503: when to try again, in seconds (the `retry-after` header). @default {undefined} */
  retryAfterSeconds?: number;
}

/**
 * An error that is an HTTP answer: its status, a code, a message, and optionally the field
 * at fault and a `retry-after`.
 *
 * @example A route refuses a parameter
 * ```ts
 * throw new ApiError(400, "invalid_parameter", "top: must be a whole number", { field: "top" });
 * // 400 {"error": "invalid_parameter", "field": "top", "message": "top: must be a whole number"}
 * ```
 */
export class ApiError extends HTTPException {
  /** A short machine-readable code. */
  readonly code: string;
  /** The parameter or field at fault, when there is one. */
  readonly field?: string;
  /** When to try again, in seconds. */
  readonly retryAfterSeconds?: number;

  /**
   * @param status The HTTP status to answer with.
   * @param code A short machine-readable code.
   * @param message What is wrong, for a person.
   * @param options The field at fault, when to try again.
   */
  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(status, { message });
    this.name = "ApiError";
    this.code = code;
    this.field = options.field;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The JSON body: `{"error", "field"?, "message"}`. */
  toJSON(): ApiErrorBody {
    return this.field === undefined
      ? { error: this.code, message: this.message }
      : { error: this.code, field: this.field, message: this.message };
  }

  /** The response: the status, the JSON body, and `retry-after` when set. */
  override getResponse(): Response {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.retryAfterSeconds !== undefined) {
      headers["retry-after"] = String(this.retryAfterSeconds);
    }
    return new Response(JSON.stringify(this.toJSON()), { status: this.status, headers });
  }
}
