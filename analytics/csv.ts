/**
 * CSV for the dashboard's exports (RFC 4180), safe to open in a spreadsheet.
 *
 * @module
 */

/**
 * One CSV field (RFC 4180: quoted only when needed, quotes doubled). Text that starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet shows
 * it as text instead of running it as a formula (OWASP's advice against CSV injection):
 * event types, ids and payloads come from anyone holding the ingest key. Numbers (and
 * bigints) are written as they are, so a negative value stays a number; only text is
 * neutralised, and a JSON payload always starts with `{`.
 *
 * @param value A string, number, boolean, object (written as JSON), or null/undefined (empty).
 * @returns The field, ready to join with commas.
 * @example
 * ```ts
 * csvField("=1+1"); // "'=1+1"
 * csvField(-5); // "-5"
 * ```
 */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined
    ? ""
    : typeof value === "object"
    ? JSON.stringify(value)
    : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (see {@link csvField}), ending in CRLF. */
export function csvLine(values: unknown[]): string {
  return values.map(csvField).join(",") + "\r\n";
}
