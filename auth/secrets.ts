/**
 * Random secrets: session cookies, CSRF nonces, generated keys and passwords.
 *
 * @module
 */

/**
 * A random URL-safe secret (base64url, no padding).
 *
 * @param bytes How many random bytes it holds. @default {32}
 * @returns The secret.
 */
export function randomSecret(bytes = 32): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(
    /\//g,
    "_",
  ).replace(
    /=+$/,
    "",
  );
}
