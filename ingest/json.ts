/**
 * Parsing a request body as JSON without changing any number: a number a 64-bit float
 * cannot hold exactly as written is marked ({@linkcode LossyNumber}) so the checks can
 * refuse its event naming the field, instead of storing another number.
 *
 * @module
 */
import { MAX_PROPERTIES_DEPTH, RequestError } from "./event.ts";

/** A number of the body that a JavaScript number cannot hold exactly (see {@linkcode parseBody}). */
export class LossyNumber {
  /** @param source The number as written in the body. */
  constructor(readonly source: string) {}
}

/** A decimal number's value as text that is equal for equal values: `1.50e2` → `15e1`. */
function canonicalDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  const fraction = m[3] ?? "";
  const digits = (m[2] + fraction).replace(/^0+/, "");
  if (digits === "") return "0";
  const trimmed = digits.replace(/0+$/, "");
  const exponent = Number(m[4] ?? 0) - fraction.length + (digits.length - trimmed.length);
  return `${m[1]}${trimmed}e${exponent}`;
}

/** Whether a JSON number as sent is exactly the JavaScript number it parsed to. */
function keptExactly(source: string, value: number): boolean {
  return Number.isFinite(value) && canonicalDecimal(source) === canonicalDecimal(String(value));
}

/**
 * Finds the numbers of a valid JSON text that JSON.parse cannot keep exactly, with their
 * paths (object keys and array indexes), scanning without recursion: the first of each
 * field of an event, and none deeper than `properties` may nest.
 */
function lossyNumbers(text: string): Array<{ path: Array<string | number>; source: string }> {
  const found: Array<{ path: Array<string | number>; source: string }> = [];
  const stack: Array<{ array: boolean; key: string | number }> = [];
  const owners = new Set<string>();
  const number = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  let expectingKey = false;
  let pos = 0;
  while (pos < text.length) {
    const ch = text[pos];
    const top = stack[stack.length - 1];
    if (ch === '"') {
      let end = pos + 1;
      while (true) {
        end = text.indexOf('"', end);
        let backslashes = 0;
        while (text[end - 1 - backslashes] === "\\") backslashes++;
        if (backslashes % 2 === 0) break;
        end++;
      }
      if (top && !top.array && expectingKey) {
        const raw = text.slice(pos + 1, end);
        top.key = raw.includes("\\") ? JSON.parse(`"${raw}"`) : raw;
        expectingKey = false;
      }
      pos = end + 1;
    } else if (ch === "-" || (ch >= "0" && ch <= "9")) {
      number.lastIndex = pos;
      const source = number.exec(text)![0];
      if (stack.length <= MAX_PROPERTIES_DEPTH + 3 && !keptExactly(source, Number(source))) {
        // One per field of an event is enough to reject it: `batch`, its index, the field.
        const owner = stack.slice(0, 3).map((frame) => frame.key).join("\u0000");
        if (!owners.has(owner)) {
          owners.add(owner);
          found.push({ path: stack.map((frame) => frame.key), source });
        }
      }
      pos += source.length;
    } else {
      if (ch === "{") {
        stack.push({ array: false, key: "" });
        expectingKey = true;
      } else if (ch === "[") {
        stack.push({ array: true, key: 0 });
      } else if (ch === "}" || ch === "]") {
        stack.pop();
      } else if (ch === ",") {
        if (top.array) top.key = (top.key as number) + 1;
        else expectingKey = true;
      }
      pos++;
    }
  }
  return found;
}

/**
 * Parses a request body as JSON. Numbers JSON.parse would change (`1e309` becomes
 * Infinity, `12345678901234567890` is rounded) are marked so that `checkEvents`
 * rejects the event naming the field, instead of storing another number. Parsing does not
 * recurse, so any depth parses; `checkEvents` (`ingest/check.ts`) limits the depth of
 * `properties`.
 *
 * @param text The body.
 * @returns The parsed body.
 * @throws {RequestError} 400 for text that is not JSON.
 */
export function parseBody(text: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new RequestError(
      400,
      "malformed_json",
      `the body is not valid JSON: ${(error as Error).message}`,
    );
  }
  // A number can only be changed by parsing when it has an exponent or 16 digits or more;
  // a number follows `:`, `[` or `,`.
  if (!/[:,[]\s*-?\d(?:[\d.]*[eE]|[\d.]{15})/.test(text)) return body;
  for (const { path, source } of lossyNumbers(text)) {
    let parent: unknown = undefined;
    let value: unknown = body;
    for (const key of path) {
      parent = value;
      value = typeof value === "object" && value !== null && Object.hasOwn(value, key)
        ? (value as Record<string | number, unknown>)[key]
        : undefined;
    }
    if (path.length > 0 && typeof value === "number" && value === Number(source)) {
      (parent as Record<string | number, unknown>)[path[path.length - 1]] = new LossyNumber(
        source,
      );
    }
  }
  return body;
}
