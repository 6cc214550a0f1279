/**
 * Reading a request body within limits: at most so many bytes, within so long for the whole
 * body, and at most so many bodies at once. Refusals are {@linkcode ApiError}s (400, 408,
 * 413, 503) in Beacon's JSON error style.
 *
 * @module
 */
import { ApiError } from "./errors.ts";

/** Limits on reading a body. */
export interface BodyLimits {
  /** Largest body in bytes (then 413). */
  maxBodyBytes: number;
  /** How long the whole body may take to arrive, in milliseconds (then 408). */
  bodyTimeoutMs: number;
}

/**
 * Reads the body as UTF-8 text ({@linkcode readBodyBytes}).
 *
 * @param request The request.
 * @param limits How big and how slow a body may be.
 * @returns The body's text.
 * @throws {ApiError} 413 too large, 408 too slow, 400 cut off or not UTF-8.
 */
export async function readBody(request: Request, limits: BodyLimits): Promise<string> {
  const bytes = await readBodyBytes(request, limits);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(
      400,
      "invalid_encoding",
      "the body is not valid UTF-8",
    );
  }
}

/**
 * Reads the body's bytes into one buffer that grows up to `maxBodyBytes`, copying each
 * chunk and keeping none (each chunk of a trickled body can be a view on a buffer of its
 * own of 64 KiB), within `bodyTimeoutMs` for the whole body.
 *
 * @param request The request.
 * @param limits How big and how slow a body may be.
 * @returns The body's bytes.
 * @throws {ApiError} 413 too large, 408 too slow, 400 cut off.
 */
export async function readBodyBytes(request: Request, limits: BodyLimits): Promise<Uint8Array> {
  const maxBytes = limits.maxBodyBytes;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw new ApiError(
      413,
      "body_too_large",
      `the body is ${declared} bytes; at most ${maxBytes} are allowed`,
    );
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  // As big as declared (a body cannot outgrow its content-length) up to 64 KiB, else 16 KiB,
  // to start: memory follows the bytes received, not what a client claims it will send.
  const claimed = Number(declared);
  let buffer = new Uint8Array(
    Math.min(
      maxBytes,
      declared !== null && Number.isSafeInteger(claimed) && claimed >= 0
        ? Math.min(claimed, 64 * 1024)
        : 16 * 1024,
    ),
  );
  let size = 0;
  let timedOut = false;
  const deadline: Deadline = {
    at: performance.now() + limits.bodyTimeoutMs,
    expire() {
      timedOut = true;
      reader.cancel().catch(() => {});
    },
  };
  watch(deadline);
  try {
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        throw new ApiError(400, "incomplete_body", "the body was cut off");
      }
      if (timedOut) {
        throw new ApiError(
          408,
          "body_timeout",
          `the body did not arrive within ${limits.bodyTimeoutMs / 1000} s`,
        );
      }
      const { done, value } = chunk;
      if (done) break;
      if (size + value.length > maxBytes) {
        await reader.cancel();
        throw new ApiError(
          413,
          "body_too_large",
          `the body is over ${maxBytes} bytes`,
        );
      }
      if (size + value.length > buffer.length) {
        const grown = new Uint8Array(
          Math.min(maxBytes, Math.max(size + value.length, buffer.length * 2)),
        );
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(value, size);
      size += value.length;
    }
  } finally {
    unwatch(deadline);
  }
  return buffer.subarray(0, size);
}

/** A body read's time limit, checked by the sweep. */
interface Deadline {
  /** When it expires (`performance.now()` time). */
  at: number;
  /** Stops the read. */
  expire(): void;
}

/**
 * How often the body reads in progress are checked against their time limits: a read is
 * stopped at most this late. One timer for all of them while any runs, instead of a timer
 * set and cleared per request (about a tenth of the server's CPU per single-event request,
 * measured with a stub store).
 */
const SWEEP_MS = 250;
const deadlines = new Set<Deadline>();
let sweeper: ReturnType<typeof setInterval> | undefined;

function watch(deadline: Deadline): void {
  deadlines.add(deadline);
  sweeper ??= setInterval(sweep, SWEEP_MS);
}

function unwatch(deadline: Deadline): void {
  deadlines.delete(deadline);
  if (deadlines.size === 0 && sweeper !== undefined) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

function sweep(): void {
  const now = performance.now();
  for (const deadline of deadlines) {
    if (now >= deadline.at) {
      deadline.expire();
      unwatch(deadline);
    }
  }
}

/** Bodies being read per owner (an app), against `maxBodiesInFlight`. */
const bodiesInFlight = new WeakMap<object, number>();

/**
 * Reads the body ({@linkcode readBody}) when fewer than `maxBodiesInFlight` bodies of the
 * same owner are being read, else refuses with 503 and `retry-after: 1`.
 *
 * @param owner What the count is kept for (one app's dependencies).
 * @param request The request.
 * @param limits The body limits, and how many bodies may be read at once.
 * @returns The body's text.
 * @throws {ApiError} 503 when too many bodies are being read, or as {@linkcode readBody}.
 */
export function readBodyInTurn(
  owner: object,
  request: Request,
  limits: BodyLimits & { maxBodiesInFlight: number },
): Promise<string> {
  return inTurn(owner, limits, () => readBody(request, limits));
}

/**
 * Reads the body's bytes ({@linkcode readBodyBytes}) in turn, as {@linkcode readBodyInTurn}.
 *
 * @param owner What the count is kept for (one app's dependencies).
 * @param request The request.
 * @param limits The body limits, and how many bodies may be read at once.
 * @returns The body's bytes.
 * @throws {ApiError} 503 when too many bodies are being read, or as {@linkcode readBodyBytes}.
 */
export function readBodyBytesInTurn(
  owner: object,
  request: Request,
  limits: BodyLimits & { maxBodiesInFlight: number },
): Promise<Uint8Array> {
  return inTurn(owner, limits, () => readBodyBytes(request, limits));
}

async function inTurn<T>(
  owner: object,
  limits: { maxBodiesInFlight: number },
  read: () => Promise<T>,
): Promise<T> {
  const reading = bodiesInFlight.get(owner) ?? 0;
  if (reading >= limits.maxBodiesInFlight) {
    throw new ApiError(
      503,
      "busy",
      "too many requests are sending their bodies right now; try again in a second",
      { retryAfterSeconds: 1 },
    );
  }
  bodiesInFlight.set(owner, reading + 1);
  try {
    return await read();
  } finally {
    bodiesInFlight.set(owner, (bodiesInFlight.get(owner) ?? 1) - 1);
  }
}
