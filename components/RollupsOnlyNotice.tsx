/**
 * Says which part of a date range is "rollups only": the days before the raw-event
 * retention's horizon, whose raw events are no longer kept (their rollups are).
 *
 * @module
 */

/** Props of {@linkcode RollupsOnlyNotice}. */
export interface RollupsOnlyNoticeProps {
  /** First UTC day of the range (YYYY-MM-DD), or null for "from the start". */
  from: string | null;
  /** Last UTC day of the range, or null for "up to today". */
  to: string | null;
  /** First UTC day whose raw events are kept (analytics.raw_events_kept_from()); null: all. */
  keptFrom: string | null;
  /** What the page shows from raw events, e.g. "The explorer lists nothing there". */
  rawPart: string;
}

/**
 * Whether a range reaches before the raw-event horizon.
 *
 * @param from First UTC day of the range, or null (from the start).
 * @param keptFrom First UTC day whose raw events are kept, or null (all are).
 * @returns True when part of the range is rollups only.
 */
export function reachesRollupsOnly(from: string | null, keptFrom: string | null): boolean {
  return keptFrom !== null && (from === null || from < keptFrom);
}

/** The notice, or nothing when the whole range still has its raw events. */
export function RollupsOnlyNotice(props: RollupsOnlyNoticeProps) {
  if (!reachesRollupsOnly(props.from, props.keptFrom)) return null;
  const all = props.to !== null && props.to < props.keptFrom!;
  return (
    <p class="card" role="status" data-rollups-only={all ? "all" : "part"}>
      <strong>Rollups only {all ? "for this whole range" : `before ${props.keptFrom}`}.</strong>
      {" "}
      Raw events before <span class="date">{props.keptFrom}</span>{" "}
      (UTC) are no longer kept (BEACON_RAW_RETENTION_DAYS); daily charts and reports still count
      them from the rollups. {props.rawPart}
    </p>
  );
}
