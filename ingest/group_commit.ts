/**
 * Group commit: the events of ingestion requests arriving together are stored in one
 * transaction, and each request is answered once that transaction has committed.
 *
 * How a group forms:
 * - **Idle**: when no commit is running, a request's events are committed at once, alone.
 *   A lone request waits for nothing (no window, no timer).
 * - **Busy**: requests arriving while a commit runs join one open group. It is committed
 *   as soon as a running commit ends and leaves a slot free, or once the window has passed
 *   while a slot is free, or at once when it reaches the size cap.
 * - **Outcome**: per-event rejections (too large, too old) come back to the request and the
 *   index they came from; duplicates across requests of one group are decided as across
 *   requests (the first by arrival is stored). A row a check constraint refuses makes the
 *   group store each request on its own (each then falls back to one event at a time), so
 *   one bad event never fails another request. A connection lost during the COMMIT is
 *   settled by the store (`ingest/lost_commit.ts`): committed, every request is answered as
 *   stored. Any other failure fails every request of the group with a 503 and a
 *   `retry-after` (nothing of the group is stored): an unavailable database as
 *   `unavailable`, anything else as `not_stored`; a commit whose outcome stays unknown is a
 *   503 saying the events may have been stored.
 *
 * @module
 */
import type { Database } from "../database/mod.ts";
import { isUnavailable } from "../database/errors.ts";
import { ApiError } from "../http/errors.ts";
import { type Logger, silentLogger } from "../log/mod.ts";
import type { CheckedEvent } from "./event.ts";
import {
  isRowError,
  type StoredEvents,
  type StoreEvents,
  storeEvents,
  storeOneByOne,
  storeTogether,
} from "./store.ts";

/** The timers a group commit uses (tests pass their own). */
export interface GroupCommitTimers {
  /** Calls `fn` after `ms` milliseconds; returns an id for `clear`. */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer `set` returned. */
  clear(id: unknown): void;
}

/** Options for {@linkcode createGroupCommit}. */
export interface GroupCommitOptions {
  /**
   * How long a group keeps gathering requests while another commit runs, before it may
   * take a free slot, in milliseconds. @default {2}
   */
  windowMs?: number;
  /** Most events in one group: a group this full is committed as soon as a slot is free. @default {2000} */
  maxEvents?: number;
  /** Most group commits running at once. @default {2} */
  maxConcurrent?: number;
  /** Where a failed group commit is logged. @default {silentLogger} */
  log?: Logger;
  /** The timers. @default {globalThis's setTimeout and clearTimeout} */
  timers?: GroupCommitTimers;
}

/** A failed group commit, for every request of the group: 503, try again. */
export class GroupCommitError extends ApiError {
  /**
   * @param cause What made the commit fail.
   */
  constructor(cause: unknown) {
    super(
      503,
      "not_stored",
      "the events could not be committed; nothing of this request was stored, try again",
      { retryAfterSeconds: 1 },
    );
    this.name = "GroupCommitError";
    this.cause = cause;
  }
}

/** One request waiting in a group. */
interface Waiting {
  events: CheckedEvent[];
  resolve(result: StoredEvents): void;
  reject(error: unknown): void;
}

interface Group {
  requests: Waiting[];
  events: number;
  /** Full: it takes no more requests. */
  full: boolean;
  /** Its window has passed. */
  ripe: boolean;
  timer?: unknown;
}

const DEFAULT_TIMERS: GroupCommitTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (id) => clearTimeout(id as number),
};

/**
 * Creates the group commit for a database: a {@linkcode StoreEvents} to make once at
 * start and hand to the app as `deps.storeEvents`.
 *
 * @param db The database.
 * @param options The window, the size cap, the concurrency, the logger.
 * @returns The function storing one request's events, resolving after their commit.
 *
 * @example
 * ```ts
 * const storeEvents = createGroupCommit(db, { log });
 * const { accepted, duplicates, rejected } = await storeEvents(checkedEvents);
 * ```
 */
export function createGroupCommit(db: Database, options: GroupCommitOptions = {}): StoreEvents {
  const windowMs = options.windowMs ?? 2;
  const maxEvents = options.maxEvents ?? 2000;
  const maxConcurrent = options.maxConcurrent ?? 2;
  const log = options.log ?? silentLogger;
  const timers = options.timers ?? DEFAULT_TIMERS;
  /** Groups waiting for a slot, oldest first; only the last one may still take requests. */
  const queue: Group[] = [];
  let running = 0;

  function pump(): void {
    while (queue.length > 0 && running < maxConcurrent) {
      const group = queue[0];
      if (!group.full && !group.ripe && running > 0) return;
      queue.shift();
      if (group.timer !== undefined) timers.clear(group.timer);
      group.timer = undefined;
      group.full = true;
      running++;
      commit(group).catch((error) => {
        for (const request of group.requests) request.reject(error);
      }).finally(() => {
        running--;
        pump();
      });
    }
  }

  async function commit(group: Group): Promise<void> {
    const all: CheckedEvent[] = [];
    const owner: number[] = [];
    const original: number[] = [];
    group.requests.forEach((request, r) => {
      for (const event of request.events) {
        owner.push(r);
        original.push(event.index);
        all.push({ ...event, index: all.length });
      }
    });
    try {
      const together = await storeTogether(db, all);
      const results: StoredEvents[] = group.requests.map(() => ({
        accepted: 0,
        duplicates: 0,
        rejected: [],
      }));
      for (const i of together.stored) results[owner[i]].accepted++;
      for (const rejection of together.rejected) {
        results[owner[rejection.index]].rejected.push({
          ...rejection,
          index: original[rejection.index],
        });
      }
      group.requests.forEach((request, r) => {
        const result = results[r];
        result.duplicates = request.events.length - result.accepted - result.rejected.length;
        request.resolve(result);
      });
    } catch (error) {
      if (isRowError(error)) {
        // One request's event was refused: each request on its own, in arrival order.
        const alone = group.requests.length === 1;
        for (const request of group.requests) {
          try {
            request.resolve(
              await (alone ? storeOneByOne(db, request.events) : storeEvents(db, request.events)),
            );
          } catch (error) {
            request.reject(failure(error, 1));
          }
        }
        return;
      }
      const answer = failure(error, group.requests.length);
      for (const request of group.requests) request.reject(answer);
    }
  }

  function failure(error: unknown, requests: number): unknown {
    if (error instanceof ApiError || isUnavailable(error)) return error;
    log.error("group commit failed", { requests, error });
    return new GroupCommitError(error);
  }

  return function storeGrouped(events: CheckedEvent[]): Promise<StoredEvents> {
    if (events.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0, rejected: [] });
    return new Promise<StoredEvents>((resolve, reject) => {
      let group = queue.at(-1);
      if (group && !group.full && group.events + events.length > maxEvents) {
        group.full = true;
      }
      if (!group || group.full) {
        const opened: Group = { requests: [], events: 0, full: false, ripe: false };
        if (running > 0) {
          opened.timer = timers.set(() => {
            opened.timer = undefined;
            opened.ripe = true;
            pump();
          }, windowMs);
        }
        queue.push(opened);
        group = opened;
      }
      group.requests.push({ events, resolve, reject });
      group.events += events.length;
      if (group.events >= maxEvents) group.full = true;
      pump();
    });
  };
}
