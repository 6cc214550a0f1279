/**
 * A local stand-in for Matomo's bulk tracking API (`POST /matomo.php` with
 * `{"requests": ["?idsite=..", ...], "token_auth": ".."}`), as Matomo 5 answers it:
 * `{"status": "success", "tracked": n, "invalid": m}` plus `invalid_indices` for a superuser's
 * token; a request for another site, with an empty event category or action, a non-numeric
 * event value, or a `cdt` more than a day old without the right token is invalid; a body
 * without `requests` is not bulk tracking and gets the 1x1 GIF. It also checks what Matomo
 * does not: every parameter's form, and that nothing else is sent (`violations`).
 *
 * It can fail (`failing`: 500 `{"status": "error"}`, nothing tracked, as Matomo's bulk
 * transaction rolls back; `unavailable`: any status, e.g. 503 or 429), refuse connections (`refuse()` / `accept()` on the same port) and
 * refuse chosen requests as invalid (`poisoned`).
 *
 * @module
 */

const KNOWN = new Set([
  "idsite",
  "rec",
  "apiv",
  "_id",
  "cid",
  "uid",
  "cdt",
  "url",
  "action_name",
  "ca",
  "e_c",
  "e_a",
  "e_n",
  "e_v",
]);
const HEX16 = /^[0-9a-fA-F]{16}$/;
const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const GIF = Uint8Array.from(
  atob("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"),
  (c) => c.charCodeAt(0),
);

/** Options for {@linkcode fakeMatomo}. */
export interface FakeMatomoOptions {
  /** The only site that exists. @default {7} */
  siteId?: number;
  /** The token that authenticates. @default {"0123456789abcdef0123456789abcdef"} */
  tokenAuth?: string;
  /** Whether that token is a superuser's (then answers carry `invalid_indices`). @default {true} */
  superuser?: boolean;
}

/** A tracked request's parameters. */
export type TrackedRequest = Record<string, string>;

/**
 * Starts the stand-in on 127.0.0.1 (a free port).
 *
 * @param options The site and token it knows.
 * @returns Its address, what it tracked, switches, and `close`.
 */
export function fakeMatomo(options: FakeMatomoOptions = {}) {
  const siteId = String(options.siteId ?? 7);
  const token = options.tokenAuth ?? "0123456789abcdef0123456789abcdef";
  const tracked: TrackedRequest[] = [];
  const violations: string[] = [];
  const state = {
    failing: false,
    /** Bulk requests received (also those answered with an error). */
    bulkRequests: 0,
    /** Requests refused as invalid. */
    invalid: 0,
    /** Makes chosen requests invalid, as Matomo does with a bad parameter. */
    poisoned: (_params: TrackedRequest) => false,
    /** While set, every bulk request gets this answer (e.g. 503, or 429 with `Retry-After`). */
    unavailable: undefined as { status: number; retryAfter?: string } | undefined,
  };

  function check(raw: unknown, authenticated: boolean, now: number): TrackedRequest | null {
    if (typeof raw !== "string" || !raw.startsWith("?")) {
      violations.push(`a request is not a query string: ${JSON.stringify(raw)}`);
      return null;
    }
    const search = new URLSearchParams(raw.slice(1));
    const params: TrackedRequest = {};
    for (const [key, value] of search) {
      if (key in params) violations.push(`${key} appears twice in ${raw}`);
      if (!KNOWN.has(key)) violations.push(`unexpected parameter ${key} in ${raw}`);
      params[key] = value;
    }
    if (params.rec !== "1") violations.push(`rec is not 1 in ${raw}`);
    if (params.apiv !== "1") violations.push(`apiv is not 1 in ${raw}`);
    if (!HEX16.test(params._id ?? "")) violations.push(`_id is not 16 hex digits in ${raw}`);
    if ("cid" in params && !HEX16.test(params.cid)) violations.push(`bad cid in ${raw}`);
    if ("uid" in params && params.uid.trim() === "") violations.push(`empty uid in ${raw}`);
    if ("ca" in params && params.ca !== "1") violations.push(`ca is not 1 in ${raw}`);
    if (!/^\d+$/.test(params.cdt ?? "")) violations.push(`cdt is not Unix seconds in ${raw}`);
    if ("url" in params && !/^https?:\/\/|^\//.test(params.url)) {
      violations.push(`url is neither absolute nor a path in ${raw}`);
    }
    if (params.idsite !== siteId) return null;
    const isEvent = "e_c" in params || "e_a" in params || "e_n" in params || "e_v" in params;
    if (isEvent && (!params.e_c?.trim() || !params.e_a?.trim())) return null;
    if ("e_v" in params && !NUMBER.test(params.e_v)) return null;
    const cdt = Number(params.cdt);
    if (cdt > now) violations.push(`cdt is in the future in ${raw}`);
    if (now - cdt >= 86_400 && !authenticated) return null;
    if (state.poisoned(params)) return null;
    return params;
  }

  async function handle(req: Request): Promise<Response> {
    if (req.method !== "POST" || new URL(req.url).pathname !== "/matomo.php") {
      return new Response("not found", { status: 404 });
    }
    const raw = await req.text();
    let body: { requests?: unknown; token_auth?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      body = {};
    }
    if (!Array.isArray(body?.requests)) {
      return new Response(GIF, { headers: { "content-type": "image/gif" } });
    }
    state.bulkRequests++;
    if (state.unavailable) {
      const { status, retryAfter } = state.unavailable;
      const headers: Record<string, string> = retryAfter ? { "retry-after": retryAfter } : {};
      return new Response("unavailable", { status, headers });
    }
    if (state.failing) {
      return Response.json({ status: "error", tracked: 0, invalid: 0 }, { status: 500 });
    }
    const authenticated = body.token_auth === token;
    const now = Math.floor(Date.now() / 1000);
    const invalidIndices: number[] = [];
    const accepted: TrackedRequest[] = [];
    body.requests.forEach((request, index) => {
      const params = check(request, authenticated, now);
      if (params) accepted.push(params);
      else invalidIndices.push(index);
    });
    tracked.push(...accepted);
    state.invalid += invalidIndices.length;
    return Response.json({
      status: "success",
      tracked: accepted.length,
      invalid: invalidIndices.length,
      ...(authenticated && (options.superuser ?? true) ? { invalid_indices: invalidIndices } : {}),
    });
  }

  const listen = (port: number) =>
    Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handle);
  let server = listen(0);
  const port = server.addr.port;
  let refusing = false;
  return {
    /** Matomo's address (without `/matomo.php`). */
    url: `http://127.0.0.1:${port}`,
    siteId: Number(siteId),
    tokenAuth: token,
    tracked,
    violations,
    state,
    /** Stops listening: connections are refused until {@linkcode accept}. */
    async refuse() {
      refusing = true;
      await server.shutdown();
    },
    /** Listens again on the same port. */
    accept() {
      if (refusing) server = listen(port);
      refusing = false;
    },
    async close() {
      if (!refusing) await server.shutdown();
      refusing = true;
    },
  };
}
