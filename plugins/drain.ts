/**
 * Plugin delivery without a background loop: one short, idempotent drain that hands each
 * plugin at most one batch from its cursor, within a time budget, and says how far it got.
 * Where Beacon has no long-lived process (a Supabase Edge Function, Deno Deploy) something
 * calls it every minute: pg_cron through pg_net, or `Deno.cron`. The server keeps its loop
 * (`forwarder.ts`); both read and move the same cursor in `beacon.plugin_cursors`.
 *
 * Two drains at once never hand the same batch over twice: each plugin's batch is read,
 * delivered and its cursor moved inside one transaction that holds a transaction-level
 * advisory lock on the plugin's name; a drain that finds the lock taken skips that plugin
 * (`busy`). A plugin that throws or outlasts the budget before any event went through
 * leaves its cursor where it was (the transaction rolls back), and the next drain hands it
 * the same batch: at least once, as with the loop. When it fails after some events went
 * through (e.g. the destination refused one event for good, then answered 503 or 429), the
 * drain stops there: the cursor moves past the events delivered and dead-lettered so far,
 * the failure is recorded (health shows it), and the report says how far it got; those
 * events are not sent again. Waits within a drain (between tries at a refused event) back
 * off, honour `Retry-After`, and are never begun when they would outlast the budget.
 *
 * @module
 */
import type { Database, Queryable } from "../database/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { BeaconPlugin } from "./mod.ts";
import { DEFAULT_PERMANENT_ATTEMPTS, toPluginEvent, waitMs } from "./forwarder.ts";
import { type DeadLetter, storeDeadLetters } from "./dead_letters.ts";
import { deliverIsolating, HeldBack, type HeldEvent } from "./isolate.ts";

type EventRow = Parameters<typeof toPluginEvent>[0];

/** How drains run. */
export interface DrainConfig {
  /**
   * The bearer secret a drain request must carry (a configured secret, else the project's
   * service role / secret key); unset: the endpoint is off.
   */
  secret?: string;
  /** How long one drain may take, in milliseconds. */
  budgetMs: number;
}

/** What a drain did for one plugin. */
export interface DrainedPlugin {
  /** The plugin's name. */
  name: string;
  /**
   * `delivered` (a batch went out and the cursor moved), `idle` (nothing new), `busy`
   * (another drain holds this plugin), `failed` (the plugin threw), `timeout` (it outlasted
   * the budget), `skipped` (the budget ran out before its turn).
   */
  status: "delivered" | "idle" | "busy" | "failed" | "timeout" | "skipped";
  /** Events delivered now. */
  delivered: number;
  /** Events stored but not delivered yet, after this drain (null when not read). */
  lag: number | null;
  /**
   * The failure's message, for `failed` and `timeout`; and for `delivered` when a failure
   * stopped the batch short (what went through before it is kept, the cursor is past it).
   */
  error?: string;
}

/** What {@linkcode drainPlugins} did. */
export interface DrainReport {
  /** One entry per plugin, in configuration order. */
  plugins: DrainedPlugin[];
  /** How long the drain took, in milliseconds. */
  elapsedMs: number;
}

/** Options for {@linkcode drainPlugins}. */
export interface DrainOptions {
  /** The database. */
  db: Database;
  /** The plugins. */
  plugins: BeaconPlugin[];
  /** Most events handed to a plugin in this drain. */
  batchSize: number;
  /** How long the drain may take, in milliseconds. */
  budgetMs: number;
  /** The logger. */
  log: Logger;
  /** First wait between tries within a drain, in milliseconds (doubles). @default {500} */
  minBackoffMs?: number;
  /** Longest wait between tries within a drain, in milliseconds. @default {4000} */
  maxBackoffMs?: number;
}

/** Waits between tries within a drain, unless given: short, as a drain has a budget. */
const DEFAULT_DRAIN_BACKOFF = { minBackoffMs: 500, maxBackoffMs: 4000 };

class BudgetExceeded extends Error {
  constructor(ms: number) {
    super(`the plugin did not finish within the drain's budget (${ms} ms)`);
    this.name = "BudgetExceeded";
  }
}

/** Plugins whose `setup` ran in this process (an edge isolate keeps them between drains). */
const setUp = new WeakSet<BeaconPlugin>();

function withinBudget<T>(work: Promise<T>, deadline: number, budgetMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BudgetExceeded(budgetMs)),
      Math.max(0, deadline - Date.now()),
    );
  });
  work.catch(() => {}); // settles after the drain when it lost the race
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

async function lagOf(db: Queryable, plugin: string): Promise<number | null> {
  try {
    const [row] = await db.query<{ lag: string }>(
      "select beacon.plugin_lag($1)::text as lag",
      [plugin],
    );
    return Number(row.lag);
  } catch {
    return null;
  }
}

/** Records a failure in the plugin's cursor row, where health reads it. */
async function recordFailure(db: Queryable, plugin: string, message: string): Promise<void> {
  await db.query(
    `update beacon.plugin_cursors
        set failures = failures + 1, last_error = $2, last_error_at = now(), updated_at = now()
      where plugin = $1`,
    [plugin, message.slice(0, 1000)],
  );
}

async function drainOne(
  options: DrainOptions,
  plugin: BeaconPlugin,
  deadline: number,
): Promise<DrainedPlugin> {
  const { db, batchSize, log } = options;
  const backoff = {
    minBackoffMs: options.minBackoffMs ?? DEFAULT_DRAIN_BACKOFF.minBackoffMs,
    maxBackoffMs: options.maxBackoffMs ?? DEFAULT_DRAIN_BACKOFF.maxBackoffMs,
  };
  const name = plugin.name;
  if (!setUp.has(plugin)) {
    await plugin.setup?.({ log: log.child({ plugin: name }) });
    setUp.add(plugin);
  }
  await db.query(
    "insert into beacon.plugin_cursors (plugin) values ($1) on conflict (plugin) do nothing",
    [name],
  );
  return await db.transaction(async (tx) => {
    const [{ locked }] = await tx.query<{ locked: boolean }>(
      "select pg_try_advisory_xact_lock(hashtextextended('beacon.plugin_drain:' || $1, 0)) as locked",
      [name],
    );
    if (!locked) return { name, status: "busy", delivered: 0, lag: null } as DrainedPlugin;
    // As the long-lived forwarder (plugins/isolate.ts): a refused event is isolated, tried
    // alone up to DEFAULT_PERMANENT_ATTEMPTS times with a backoff between tries, then
    // dead-lettered with the cursor moved past it, all in this transaction. Attempts are
    // counted within the drain (an edge isolate keeps nothing between requests).
    const held = new Map<string, HeldEvent>();
    const bounded: BeaconPlugin = {
      ...plugin,
      onEvents: (events) => withinBudget(plugin.onEvents(events), deadline, options.budgetMs),
    };
    // A wait that would not end before the deadline is not begun: the drain stops there.
    let outOfTime = false;
    const stopped = () => outOfTime || Date.now() >= deadline;
    const pause = async (attempt: number, retryAfterMs?: number) => {
      const wait = waitMs(attempt, backoff, retryAfterMs);
      if (Date.now() + wait >= deadline) return void (outOfTime = true);
      await new Promise((resolve) => setTimeout(resolve, wait));
    };
    let delivered = 0;
    let handled = 0;
    let committing = false;
    const commit = async (rows: EventRow[], letters: DeadLetter[]) => {
      const last = rows[rows.length - 1];
      committing = true;
      await storeDeadLetters(tx, name, letters);
      await tx.query(
        `update beacon.plugin_cursors
            set last_txid = $2::xid8, last_seq = $3::bigint, delivered = delivered + $4,
                failures = 0, last_delivered_at = now(), updated_at = now()
          where plugin = $1`,
        [name, last.txid, String(last.seq), rows.length - letters.length],
      );
      committing = false;
      delivered += rows.length - letters.length;
      handled += rows.length;
      if (letters.length > 0) {
        log.warn("events refused for good were dead-lettered", {
          plugin: name,
          event_ids: letters.map((l) => l.event.id),
          error: letters[letters.length - 1].error,
        });
      }
    };
    let stoppedBy: unknown;
    while (true) {
      const [cursor] = await tx.query<{ txid: string; seq: string }>(
        "select last_txid::text as txid, last_seq::text as seq from beacon.plugin_cursors where plugin = $1",
        [name],
      );
      const rows = await tx.query<EventRow>(
        `select id, txid::text as txid, seq, event_type, user_id, anonymous_id, payload,
                "timestamp", received_at
           from beacon.events_after($1::xid8, $2::bigint, $3)`,
        [cursor.txid, cursor.seq, batchSize - handled],
      );
      if (rows.length === 0) break;
      try {
        await deliverIsolating({
          plugin: bounded,
          rows,
          toEvent: toPluginEvent,
          commit,
          permanentAttempts: DEFAULT_PERMANENT_ATTEMPTS,
          held,
          pause,
          stopped,
          // A destination down while a refused event is retried: give up on the event
          // (dead-lettered, replayable) rather than spend the budget or resend the batch.
          maxUnavailable: DEFAULT_PERMANENT_ATTEMPTS,
        });
      } catch (error) {
        if (committing) throw error; // the database failed: roll back
        // A refused event not yet tried its last time: after the backoff, the next round
        // (this drain) tries it alone again, from the cursor the events before it moved.
        if (error instanceof HeldBack) {
          await pause(error.attempts);
          if (!stopped()) continue;
        }
        if (handled === 0) {
          throw error instanceof HeldBack ? new BudgetExceeded(options.budgetMs) : error;
        }
        // Some events went through: keep them (and the dead letters) and stop here, rather
        // than roll them back to be sent again. The failure is recorded for health.
        stoppedBy = error;
        break;
      }
      if (handled >= batchSize) break;
    }
    if (handled === 0) return { name, status: "idle", delivered: 0, lag: 0 } as DrainedPlugin;
    if (stoppedBy === undefined) {
      return { name, status: "delivered", delivered, lag: null } as DrainedPlugin;
    }
    const error = stoppedBy instanceof Error ? stoppedBy.message : String(stoppedBy);
    log.warn("plugin drain stopped short; the next drain goes on from there", {
      plugin: name,
      delivered,
      error,
    });
    await recordFailure(tx, name, error);
    return { name, status: "delivered", delivered, lag: null, error } as DrainedPlugin;
  });
}

/**
 * Hands each plugin at most one batch from its cursor, one plugin after another, until
 * they are done or the budget is spent; never throws for a plugin's failure (it is in the
 * report, and in `beacon.plugin_cursors` as the loop records it).
 *
 * @param options The database, plugins, batch size, budget and logger.
 * @returns What happened per plugin, and how long it took.
 *
 * @example Called every minute on the edge
 * ```ts
 * const report = await drainPlugins({ db, plugins, batchSize: 500, budgetMs: 20_000, log });
 * // { plugins: [{ name: "posthog", status: "delivered", delivered: 500, lag: 1200 }], ... }
 * ```
 */
export async function drainPlugins(options: DrainOptions): Promise<DrainReport> {
  const started = performance.now();
  const deadline = Date.now() + options.budgetMs;
  const plugins: DrainedPlugin[] = [];
  for (const plugin of options.plugins) {
    if (Date.now() >= deadline) {
      plugins.push({ name: plugin.name, status: "skipped", delivered: 0, lag: null });
      continue;
    }
    let result: DrainedPlugin;
    try {
      result = await drainOne(options, plugin, deadline);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      options.log.warn("plugin drain failed; the next drain retries", {
        plugin: plugin.name,
        error: message,
      });
      try {
        await recordFailure(options.db, plugin.name, message);
      } catch {
        // The database may be what failed; the log line above says so.
      }
      result = {
        name: plugin.name,
        status: error instanceof BudgetExceeded ? "timeout" : "failed",
        delivered: 0,
        lag: null,
        error: message,
      };
    }
    if (result.lag === null && result.status !== "busy") {
      result.lag = await lagOf(options.db, plugin.name);
    }
    plugins.push(result);
  }
  return { plugins, elapsedMs: Math.round(performance.now() - started) };
}
