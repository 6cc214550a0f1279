/**
 * How island props travel from the server to the browser: JSON, with signals tagged so the
 * browser can turn them back into signals.
 *
 * @module
 */
import { Signal, signal } from "@preact/signals";

const TAG = "__beacon_signal";

/**
 * Turns props into JSON-safe data: signals become `{ "__beacon_signal": value }`.
 * Functions and other values JSON cannot carry are refused by name.
 *
 * @param value The props (or any value inside them).
 * @param path Where the value is, for the error message.
 * @returns Data for `JSON.stringify`.
 */
export function toTransport(value: unknown, path = "props"): unknown {
  if (value instanceof Signal) return { [TAG]: toTransport(value.peek(), `${path}.value`) };
  if (typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") {
    throw new TypeError(`${path} is a ${typeof value}: island props must be JSON data or signals`);
  }
  if (Array.isArray(value)) return value.map((item, i) => toTransport(item, `${path}[${i}]`));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, toTransport(item, `${path}.${key}`)]),
    );
  }
  return value;
}

/**
 * The inverse of {@linkcode toTransport}: tagged values become signals again.
 *
 * @param value Parsed JSON.
 * @returns The props.
 */
export function fromTransport(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromTransport);
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0][0] === TAG) return signal(fromTransport(entries[0][1]));
    return Object.fromEntries(entries.map(([key, item]) => [key, fromTransport(item)]));
  }
  return value;
}

/**
 * Serializes the islands' props for the page's state script, safe inside `<script>`.
 *
 * @param props One props object per island, in page order.
 * @returns JSON text with `<`, `>` and `&` escaped.
 */
export function serializeState(props: unknown[]): string {
  return JSON.stringify(props.map((p, i) => toTransport(p, `island ${i} props`)))
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
