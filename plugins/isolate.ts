/**
 * Delivering a batch so that one event a destination can never accept does not hold the
 * plugin forever (see `plugins/failure.ts` for what is permanent):
 *
 * - A retryable failure is thrown as it is: the caller waits and sends the same batch again.
 * - A permanent failure of a batch is narrowed down to the event at fault: to the events the
 *   destination named (`eventIds`), else by splitting the batch in halves. Parts that go
 *   through are committed (the cursor moves past them) as they do, so no good event is sent
 *   twice.
 * - A single event refused permanently is "held": {@linkcode HeldBack} is thrown and the
 *   caller waits its backoff; the next round sends that event alone. At the
 *   `permanentAttempts`-th refusal it is committed as a dead letter and delivery goes on.
 * - Events a destination refused while taking the rest of the batch (`{ refused }`) are
 *   retried alone right away, with the backoff between attempts, then dead-lettered. A
 *   retryable failure meanwhile (the destination is down or busy) is not a refusal and is
 *   waited out (the backoff grows, `Retry-After` is honoured), at most `maxUnavailable`
 *   times in a row. Past that, or when the caller stops, the retries are cut short: the
 *   refused events are dead-lettered with the refusals they got (a replay can send them
 *   again), the batch is committed, since the destination took the rest of it and sending
 *   those again would count them twice, and the failure is thrown for the caller's backoff.
 *
 * @module
 */
import type { DeadLetter } from "./dead_letters.ts";
import { classifyFailure } from "./failure.ts";
import type { BeaconPlugin, PluginEvent } from "./mod.ts";

/** An event refused permanently, not yet as often as allowed: try it again later, alone. */
export class HeldBack extends Error {
  /**
   * @param eventId The event.
   * @param attempts Refusals so far.
   * @param limit Refusals before it is dead-lettered.
   * @param reason The destination's last refusal.
   */
  constructor(readonly eventId: string, readonly attempts: number, limit: number, reason: string) {
    super(
      `event ${eventId} refused (${attempts} of ${limit} attempts before dead-lettering): ${reason}`,
    );
    this.name = "HeldBack";
  }
}

/** An event being held back: its refusals so far. */
export interface HeldEvent {
  /** Refusals so far. */
  attempts: number;
  /** The first refusal. */
  firstFailedAt: Date;
}

/** Options for {@linkcode deliverIsolating}. */
export interface IsolatingOptions<R> {
  /** The plugin. */
  plugin: BeaconPlugin;
  /** The batch, in delivery order. */
  rows: R[];
  /** What the plugin receives for a row. */
  toEvent(row: R): PluginEvent;
  /** Moves the cursor past `rows` (delivered, or dead-lettered as `letters`), atomically. */
  commit(rows: R[], letters: DeadLetter[]): Promise<void>;
  /** Refusals of one event before it is dead-lettered (at least 1). */
  permanentAttempts: number;
  /** The plugin's held events by id, kept by the caller between rounds. */
  held: Map<string, HeldEvent>;
  /**
   * Waits between attempts at a refused event (resolves early when stopping): after
   * `attempt` failures, and at least `retryAfterMs` when the destination asked for that.
   */
  pause(attempt: number, retryAfterMs?: number): Promise<void>;
  /**
   * Retryable failures in a row tolerated while retrying a refused event alone before the
   * retries are cut short. @default {Infinity}
   */
  maxUnavailable?: number;
  /** Whether the caller is stopping. */
  stopped(): boolean;
}

/**
 * Delivers a batch, isolating and dead-lettering events refused for good.
 *
 * @param o The plugin, the batch and how to commit it.
 * @throws the plugin's error when it is retryable; {@linkcode HeldBack} while an event is
 *   being retried alone. Either way, what was committed stays committed.
 */
export async function deliverIsolating<R>(o: IsolatingOptions<R>): Promise<void> {
  const limit = Math.max(1, o.permanentAttempts);

  async function refusedAlone(row: R, event: PluginEvent, reason: string): Promise<void> {
    const now = new Date();
    const held = o.held.get(event.id) ?? { attempts: 0, firstFailedAt: now };
    held.attempts++;
    if (held.attempts < limit) {
      o.held.set(event.id, held);
      throw new HeldBack(event.id, held.attempts, limit, reason);
    }
    o.held.set(event.id, held);
    await o.commit([row], [{
      event,
      error: reason,
      attempts: held.attempts,
      firstFailedAt: held.firstFailedAt,
      lastFailedAt: now,
    }]);
    o.held.delete(event.id);
  }

  /**
   * Tries a refused event alone until it is taken (null) or refused its last time, or the
   * retries are cut short (`cut.by` says why): then its dead letter.
   */
  async function retryRefused(
    event: PluginEvent,
    reason: string,
    cut: { by?: unknown },
  ): Promise<DeadLetter | null> {
    const firstFailedAt = new Date();
    let attempts = 1;
    let error = reason;
    let unavailable = 0;
    let retryAfterMs: number | undefined;
    let lastUnavailable: unknown;
    while (attempts < limit && cut.by === undefined) {
      if (unavailable >= (o.maxUnavailable ?? Infinity)) {
        cut.by = lastUnavailable;
        break;
      }
      await o.pause(attempts + unavailable, retryAfterMs);
      if (o.stopped()) {
        cut.by = lastUnavailable ?? new Error("stopping before the refused events were retried");
        break;
      }
      try {
        const again = (await o.plugin.onEvents([event]))?.refused?.find((r) => r.id === event.id);
        if (!again) return null;
        error = again.error;
      } catch (thrown) {
        const failure = classifyFailure(thrown);
        if (failure.retryable) {
          // Not the event's fault, so not a refusal; counted all the same.
          unavailable++;
          retryAfterMs = failure.retryAfterMs;
          lastUnavailable = thrown;
          continue;
        }
        error = failure.message;
      }
      unavailable = 0;
      retryAfterMs = undefined;
      lastUnavailable = undefined;
      attempts++;
    }
    if (cut.by !== undefined) {
      const why = cut.by instanceof Error ? cut.by.message : String(cut.by);
      error = `${error} (retries cut short: ${why})`;
    }
    return { event, error, attempts, firstFailedAt, lastFailedAt: new Date() };
  }

  async function deliver(rows: R[]): Promise<void> {
    if (rows.length === 0) return;
    const events = rows.map(o.toEvent);
    if (rows.length > 1 && o.held.has(events[0].id)) {
      await deliver(rows.slice(0, 1));
      await deliver(rows.slice(1));
      return;
    }
    let refused: Array<{ id: string; error: string }> = [];
    try {
      refused = (await o.plugin.onEvents(events))?.refused ?? [];
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.retryable) throw error;
      if (rows.length === 1) return await refusedAlone(rows[0], events[0], failure.message);
      const named = new Set(failure.eventIds?.filter((id) => events.some((e) => e.id === id)));
      for (
        const part of named.size > 0 && named.size < rows.length
          ? segments(rows, events, named)
          : [rows.slice(0, Math.ceil(rows.length / 2)), rows.slice(Math.ceil(rows.length / 2))]
      ) {
        await deliver(part);
      }
      return;
    }
    const letters: DeadLetter[] = [];
    const cut: { by?: unknown } = {};
    for (const event of events) {
      const refusal = refused.find((r) => r.id === event.id);
      if (!refusal) continue;
      const letter = await retryRefused(event, refusal.error, cut);
      if (letter) letters.push(letter);
    }
    for (const event of events) o.held.delete(event.id);
    await o.commit(rows, letters);
    if (cut.by !== undefined) throw cut.by;
  }

  await deliver(o.rows);
}

/** Splits a batch in order into runs of unnamed events and each named event alone. */
function segments<R>(rows: R[], events: PluginEvent[], named: Set<string>): R[][] {
  const parts: R[][] = [];
  let run: R[] = [];
  rows.forEach((row, i) => {
    if (!named.has(events[i].id)) return void run.push(row);
    if (run.length) parts.push(run);
    parts.push([row]);
    run = [];
  });
  if (run.length) parts.push(run);
  return parts;
}
