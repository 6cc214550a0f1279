/**
 * Local stand-ins for remote services, speaking their documented protocols on 127.0.0.1:
 * PostHog's batch capture endpoint and a webhook receiver.
 *
 * @module
 */

/**
 * A fake PostHog: records `POST /batch/` events; answers 500 while `failing`, and the queued
 * `answers` (e.g. a 429 with `Retry-After`) first; while `hold` is set, answers only once it
 * resolves (the events count as received when it does).
 */
export function fakePostHog() {
  const received: Array<Record<string, unknown>> = [];
  const state = {
    failing: false,
    requests: 0,
    apiKeys: new Set<string>(),
    /** A batch holding an event this accepts is refused whole with a 400, as PostHog does. */
    rejects: (_event: Record<string, unknown>) => false,
    hold: undefined as Promise<void> | undefined,
    /** Answers to give first, e.g. `[{ status: 503 }, { status: 429, retryAfter: "1" }]`. */
    answers: [] as Array<{ status: number; retryAfter?: string }>,
    /** Called with each batch refused with a 400 (before answering it). */
    onRefused: (_batch: Array<Record<string, unknown>>) => {},
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (req.method !== "POST" || new URL(req.url).pathname !== "/batch/") {
      return new Response("not found", { status: 404 });
    }
    state.requests++;
    const stream = req.headers.get("content-encoding") === "gzip"
      ? req.body!.pipeThrough(new DecompressionStream("gzip"))
      : req.body!;
    const body = JSON.parse(await new Response(stream).text());
    if (state.hold) await state.hold;
    if (state.failing) return new Response("unavailable", { status: 500 });
    const answer = state.answers.shift();
    if (answer) {
      const headers: Record<string, string> = answer.retryAfter
        ? { "retry-after": answer.retryAfter }
        : {};
      return new Response("not now", { status: answer.status, headers });
    }
    if (body.batch.some(state.rejects)) {
      state.onRefused(body.batch);
      return Response.json({ type: "validation_error" }, { status: 400 });
    }
    state.apiKeys.add(body.api_key);
    received.push(...body.batch);
    return Response.json({ status: 1 });
  });
  return {
    host: `http://127.0.0.1:${server.addr.port}`,
    received,
    state,
    /** The distinct event uuids received. */
    uuids: () => new Set(received.map((e) => String(e.uuid))),
    close: () => server.shutdown(),
  };
}

/** A webhook receiver: records `{ events }` bodies; answers 500 while `failing`. */
export function fakeWebhookReceiver() {
  const received: Array<Record<string, unknown>> = [];
  const state = {
    failing: false,
    requests: 0,
    /** A batch holding an event this accepts is refused whole with a 422. */
    rejects: (_event: Record<string, unknown>) => false,
    /** Answers to give first, e.g. `[{ status: 429, retryAfter: "2" }]`. */
    answers: [] as Array<{ status: number; retryAfter?: string }>,
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    state.requests++;
    const body = await req.json();
    if (state.failing) return new Response("down", { status: 500 });
    const answer = state.answers.shift();
    if (answer) {
      const headers: Record<string, string> = answer.retryAfter
        ? { "retry-after": answer.retryAfter }
        : {};
      return new Response("not now", { status: answer.status, headers });
    }
    if (body.events.some(state.rejects)) return new Response("unprocessable", { status: 422 });
    received.push(...body.events);
    return new Response(null, { status: 204 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    state,
    ids: () => new Set(received.map((e) => String(e.id))),
    close: () => server.shutdown(),
  };
}
