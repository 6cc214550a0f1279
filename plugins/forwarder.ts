/**
 * The forwarder: feeds every stored event to every plugin, at least once and in order,
 * from a cursor per plugin kept in `beacon.plugin_cursors`.
 *
 * Order and completeness: events are read in `(txid, seq)` order, and only those written
 * by transactions older than every transaction still running (`beacon.events_after` checks
 * `pg_snapshot_xmin`). A transaction that took an earlier `seq` but commits later is still
 * running when a later one is read, so the later one waits for it; nothing can commit
 * behind the cursor, and no event is skipped.
 *
 * Failures: a plugin that throws a retryable error (`plugins/failure.ts`: no answer, 5xx,
 * 408, 429) gets the same batch again after a delay that doubles from `minBackoffMs` to
 * `maxBackoffMs`, or after the destination's `Retry-After` when longer. A permanent refusal
 * (another 4xx) is narrowed down to the event at fault, which is tried alone up to
 * `permanentAttempts` times and then moved to `beacon.plugin_dead_letters`
 * (`plugins/isolate.ts`, `plugins/dead_letters.ts`); `replay` hands dead letters over again.
 * Each plugin has its own loop, so a failing plugin delays only itself; ingestion never
 * waits for plugins.
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { BeaconPlugin } from "./mod.ts";
import { classifyFailure } from "./failure.ts";
import { type EventRow, toPluginEvent } from "./event_row.ts";

export { toPluginEvent };
import { deliverIsolating, type HeldEvent } from "./isolate.ts";
import {
  deadLetterCounts,
  replayDeadLetters,
  type ReplayResult,
  storeDeadLetters,
} from "./dead_letters.ts";

/** Refusals of one event before it is dead-lettered, unless configured. */
export const DEFAULT_PERMANENT_ATTEMPTS = 3;

/** The longest `Retry-After` honoured, in milliseconds (a longer one waits this long). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** How the forwarder feeds plugins. */
export interface ForwarderConfig {
  /** Most events handed to a plugin at once. */
  batchSize: number;
  /** How often to look for new events when idle, in milliseconds. */
  pollIntervalMs: number;
  /** First retry delay after a failure, in milliseconds (doubles each time). */
  minBackoffMs: number;
  /** Longest retry delay, in milliseconds. */
  maxBackoffMs: number;
  /**
   * Permanent refusals of one event (a 4xx other than 408/429) before it is dead-lettered.
   * @default {3}
   */
  permanentAttempts?: number;
}

/** How one plugin is doing. */
export interface PluginStatus {
  /** The plugin's name. */
  name: string;
  /** Events stored but not delivered yet. */
  lag: number;
  /** Events delivered so far. */
  delivered: number;
  /** Failures in a row (0 when the last attempt worked). */
  failures: number;
  /** The last failure's message, if any. */
  lastError: string | null;
  /** When it happened. */
  lastErrorAt: string | null;
  /** When a batch was last delivered. */
  lastDeliveredAt: string | null;
  /** Events moved to `beacon.plugin_dead_letters` and not replayed yet. */
  deadLettered: number;
}

/** The running forwarder. */
export interface Forwarder {
  /** Starts one delivery loop per plugin. */
  start(): Promise<void>;
  /** Says new events were stored, so idle loops look now instead of at the next poll. */
  wake(): void;
  /** Stops the loops after their current batch, then shuts the plugins down. */
  stop(): Promise<void>;
  /** Every plugin's lag, counts and last error. */
  status(): Promise<PluginStatus[]>;
  /**
   * Hands a plugin's dead letters to it again (between its batches); throws when no plugin
   * has that name, or when the destination is still unreachable.
   */
  replay(name: string): Promise<ReplayResult>;
}

/** Options for {@linkcode createForwarder}. */
export interface ForwarderOptions {
  /** The database. */
  db: Database;
  /** The plugins. */
  plugins: BeaconPlugin[];
  /** Batch size, polling and backoff. */
  config: ForwarderConfig;
  /** The logger. */
  log: Logger;
}

/** The retry delay after `failures` failures in a row. */
export function backoffMs(
  failures: number,
  config: Pick<ForwarderConfig, "minBackoffMs" | "maxBackoffMs">,
): number {
  return Math.min(
    config.maxBackoffMs,
    config.minBackoffMs * 2 ** Math.max(0, failures - 1),
  );
}

/**
 * The wait after `failures` failures in a row: the backoff, or the destination's
 * `Retry-After` (up to {@linkcode MAX_RETRY_AFTER_MS}) when that is longer.
 */
export function waitMs(
  failures: number,
  config: Pick<ForwarderConfig, "minBackoffMs" | "maxBackoffMs">,
  retryAfterMs?: number,
): number {
  return Math.max(backoffMs(failures, config), Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

/**
 * Creates the forwarder (not started).
 *
 * @param options The database, plugins, settings and logger.
 * @returns The forwarder.
 */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const { db, plugins, config, log } = options;
  let stopped = false;
  const loops: Promise<void>[] = [];
  const waiters = new Set<() => void>();
  const busy = new Map<string, Promise<unknown>>();

  /** Runs `work` when nothing else runs for the plugin (its batch, or a replay). */
  function exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = busy.get(name) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    busy.set(name, next.catch(() => {}));
    return next;
  }

  function pause(ms: number): Promise<void> {
    if (stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  function wakeAll() {
    for (const done of [...waiters]) done();
  }

  async function run(plugin: BeaconPlugin) {
    const pluginLog = log.child({ plugin: plugin.name });
    let failures = 0;
    let ready = false;
    let cursor: { txid: string; seq: string } | undefined;
    const held = new Map<string, HeldEvent>();
    const commit = async (rows: EventRow[], letters: Parameters<typeof storeDeadLetters>[2]) => {
      const last = rows[rows.length - 1];
      await db.transaction(async (tx) => {
        await storeDeadLetters(tx, plugin.name, letters);
        await tx.query(
          `update beacon.plugin_cursors
              set last_txid = $2::xid8, last_seq = $3::bigint, delivered = delivered + $4,
                  failures = 0, last_delivered_at = now(), updated_at = now()
            where plugin = $1`,
          [plugin.name, last.txid, String(last.seq), rows.length - letters.length],
        );
      });
      cursor = { txid: last.txid, seq: String(last.seq) };
      if (letters.length > 0) {
        pluginLog.warn("events refused for good were dead-lettered", {
          event_ids: letters.map((l) => l.event.id),
          error: letters[letters.length - 1].error,
        });
      }
    };
    while (!stopped) {
      try {
        if (!ready) {
          await plugin.setup?.({ log: pluginLog });
          ready = true;
        }
        if (!cursor) {
          await db.query(
            "insert into beacon.plugin_cursors (plugin) values ($1) on conflict (plugin) do nothing",
            [plugin.name],
          );
          const [row] = await db.query<{ txid: string; seq: string }>(
            "select last_txid::text as txid, last_seq::text as seq from beacon.plugin_cursors where plugin = $1",
            [plugin.name],
          );
          cursor = row;
        }
        const from = cursor;
        const found = await exclusive(plugin.name, async () => {
          const rows = await db.query<EventRow>(
            `select id, txid::text as txid, seq, event_type, user_id, anonymous_id, payload,
                    "timestamp", received_at
               from beacon.events_after($1::xid8, $2::bigint, $3)`,
            [from.txid, from.seq, config.batchSize],
          );
          if (rows.length === 0) return false;
          await deliverIsolating({
            plugin,
            rows,
            toEvent: toPluginEvent,
            commit,
            permanentAttempts: config.permanentAttempts ?? DEFAULT_PERMANENT_ATTEMPTS,
            held,
            pause: (attempt, retryAfterMs) => pause(waitMs(attempt, config, retryAfterMs)),
            stopped: () => stopped,
          });
          return true;
        });
        if (!found) {
          await pause(config.pollIntervalMs);
          continue;
        }
        failures = 0;
      } catch (error) {
        failures++;
        const failure = classifyFailure(error);
        const message = failure.message;
        const delay = waitMs(failures, config, failure.retryAfterMs);
        pluginLog.warn("plugin delivery failed; will retry", {
          error: message,
          failures,
          retry_in_ms: delay,
        });
        try {
          await db.query(
            `update beacon.plugin_cursors
                set failures = failures + 1, last_error = $2, last_error_at = now(), updated_at = now()
              where plugin = $1`,
            [plugin.name, message.slice(0, 1000)],
          );
        } catch {
          // The database may be what failed; the log line above says so.
        }
        await pause(delay);
      }
    }
    if (ready) {
      try {
        await plugin.shutdown?.();
      } catch (error) {
        pluginLog.error("plugin shutdown failed", { error });
      }
    }
  }

  return {
    start() {
      stopped = false;
      for (const plugin of plugins) loops.push(run(plugin));
      return Promise.resolve();
    },
    wake: wakeAll,
    async stop() {
      stopped = true;
      wakeAll();
      await Promise.all(loops.splice(0));
    },
    replay(name) {
      const plugin = plugins.find((p) => p.name === name);
      if (!plugin) return Promise.reject(new Error(`no plugin is named "${name}"`));
      return exclusive(
        name,
        () => replayDeadLetters({ db, plugin, log, batchSize: config.batchSize }),
      );
    },
    async status() {
      const statuses: PluginStatus[] = [];
      const dead = await deadLetterCounts(db);
      for (const plugin of plugins) {
        const [row] = await db.query<{
          lag: string;
          delivered: string | null;
          failures: number | null;
          last_error: string | null;
          last_error_at: string | null;
          last_delivered_at: string | null;
        }>(
          `select beacon.plugin_lag($1)::text as lag, c.delivered::text as delivered, c.failures,
                  c.last_error, c.last_error_at::text as last_error_at,
                  c.last_delivered_at::text as last_delivered_at
             from (select 1) as one
             left join beacon.plugin_cursors c on c.plugin = $1`,
          [plugin.name],
        );
        statuses.push({
          name: plugin.name,
          lag: Number(row.lag),
          delivered: Number(row.delivered ?? 0),
          failures: row.failures ?? 0,
          lastError: row.last_error,
          lastErrorAt: row.last_error_at,
          lastDeliveredAt: row.last_delivered_at,
          deadLettered: dead.get(plugin.name) ?? 0,
        });
      }
      return statuses;
    },
  };
}
