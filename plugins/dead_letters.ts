/**
 * Dead letters: events a plugin's destination refused for good, kept in
 * `beacon.plugin_dead_letters` (plugin, event id, the event as the plugin was given it, the
 * last error, attempts, first and last failure) so the plugin's cursor moves on, and replayed
 * once the destination is fixed (`deno task plugins:replay NAME`, or the forwarder's `replay`).
 *
 * The event itself is kept, not only its id: raw events have a retention period, and a
 * replay must not depend on the row still being there.
 *
 * @module
 */
import type { Queryable } from "../database/mod.ts";
import type { Logger } from "../log/mod.ts";
import { classifyFailure } from "./failure.ts";
import type { BeaconPlugin, PluginEvent } from "./mod.ts";

/** One event to dead-letter. */
export interface DeadLetter {
  /** The event as the plugin was given it. */
  event: PluginEvent;
  /** The last error. */
  error: string;
  /** Deliveries tried. */
  attempts: number;
  /** When the first attempt failed. */
  firstFailedAt: Date;
  /** When the last attempt failed. */
  lastFailedAt: Date;
}

/**
 * Stores dead letters for a plugin; an event already there adds its attempts and takes the
 * latest error.
 *
 * @param db The database (or the transaction that also moves the cursor).
 * @param plugin The plugin's name.
 * @param letters The events.
 */
export async function storeDeadLetters(
  db: Queryable,
  plugin: string,
  letters: DeadLetter[],
): Promise<void> {
  if (letters.length === 0) return;
  await db.query(
    `insert into beacon.plugin_dead_letters as d
            (plugin, event_id, event, error, attempts, first_failed_at, last_failed_at)
     select $1, (l ->> 'event_id')::uuid, l -> 'event', l ->> 'error', (l ->> 'attempts')::int,
            (l ->> 'first')::timestamptz, (l ->> 'last')::timestamptz
       from jsonb_array_elements($2::text::jsonb) as l
     on conflict (plugin, event_id) do update
        set error = excluded.error, attempts = d.attempts + excluded.attempts,
            last_failed_at = excluded.last_failed_at, event = excluded.event`,
    [
      plugin,
      JSON.stringify(letters.map((l) => ({
        event_id: l.event.id,
        event: l.event,
        error: l.error.slice(0, 1000),
        attempts: l.attempts,
        first: l.firstFailedAt.toISOString(),
        last: l.lastFailedAt.toISOString(),
      }))),
    ],
  );
}

/**
 * Dead-lettered events per plugin.
 *
 * @param db The database.
 * @returns A count per plugin name (plugins without any are absent).
 */
export async function deadLetterCounts(db: Queryable): Promise<Map<string, number>> {
  const rows = await db.query<{ plugin: string; n: string }>(
    "select plugin, count(*)::text as n from beacon.plugin_dead_letters group by plugin",
  );
  return new Map(rows.map((r) => [r.plugin, Number(r.n)]));
}

/** What a replay did. */
export interface ReplayResult {
  /** The plugin's name. */
  plugin: string;
  /** Dead letters delivered now (and removed). */
  replayed: number;
  /** Dead letters the destination refused again (kept, attempts counted). */
  failed: number;
  /** The last refusal's message, if any. */
  lastError: string | null;
}

/** Options for {@linkcode replayDeadLetters}. */
export interface ReplayOptions {
  /** The database. */
  db: Queryable;
  /** The plugin, set up. */
  plugin: BeaconPlugin;
  /** Most events handed over at once. @default {100} */
  batchSize?: number;
  /** The logger. */
  log: Logger;
}

interface LetterRow {
  id: string;
  event: PluginEvent | string;
}

/**
 * Hands a plugin's dead letters to it again, oldest first, in batches; a batch that fails is
 * tried event by event. Delivered letters are removed; refused ones stay with their attempts
 * counted. A retryable failure (the destination is still down) stops the replay and throws:
 * nothing is lost, run it again later.
 *
 * @param options The database, the plugin and the batch size.
 * @returns How many were delivered and how many refused again.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayResult> {
  const { db, plugin } = options;
  const batchSize = options.batchSize ?? 100;
  const result: ReplayResult = { plugin: plugin.name, replayed: 0, failed: 0, lastError: null };
  let afterId = "0";
  while (true) {
    const rows = await db.query<LetterRow>(
      `select id::text as id, event from beacon.plugin_dead_letters
        where plugin = $1 and id > $2::bigint order by id limit $3`,
      [plugin.name, afterId, batchSize],
    );
    if (rows.length === 0) return result;
    afterId = rows[rows.length - 1].id;
    const events = rows.map((r) => (typeof r.event === "string" ? JSON.parse(r.event) : r.event));
    let refused = new Map<string, string>();
    try {
      const outcome = await plugin.onEvents(events);
      for (const r of outcome?.refused ?? []) refused.set(r.id, r.error);
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.retryable) throw error;
      refused = new Map();
      for (const event of events) {
        try {
          const outcome = await plugin.onEvents([event]);
          const again = outcome?.refused?.[0];
          if (again) refused.set(event.id, again.error);
        } catch (single) {
          const f = classifyFailure(single);
          if (f.retryable) throw single;
          refused.set(event.id, f.message);
        }
      }
    }
    const delivered = rows.filter((_, i) => !refused.has(events[i].id)).map((r) => r.id);
    await db.query("delete from beacon.plugin_dead_letters where id = any($1::bigint[])", [
      `{${delivered.join(",")}}`,
    ]);
    if (refused.size > 0) {
      await db.query(
        `update beacon.plugin_dead_letters d
            set attempts = d.attempts + 1, last_failed_at = now(), error = r.error
           from jsonb_each_text($2::text::jsonb) as r (event_id, error)
          where d.plugin = $1 and d.event_id = r.event_id::uuid`,
        [plugin.name, JSON.stringify(Object.fromEntries(refused))],
      );
      result.lastError = [...refused.values()].at(-1) ?? null;
    }
    result.replayed += delivered.length;
    result.failed += refused.size;
    options.log.info("replayed dead letters", {
      plugin: plugin.name,
      replayed: delivered.length,
      refused: refused.size,
    });
  }
}
