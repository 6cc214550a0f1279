/**
 * Sign-in and sign-out: `/login` (GET shows the form, POST checks it) and `POST /logout`.
 * Forms must come from this site (`Origin` or `Sec-Fetch-Site`) and carry a CSRF token;
 * attempts are limited per account and per address, counted in the database before the password
 * is checked (shared by every process and edge isolate).
 * A sign-in creates a server-side session; sign-out revokes it.
 *
 * @module
 */
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./_deps.ts";
import { Layout } from "../components/Layout.tsx";
import { sendPage } from "./_page.ts";
import { csrfMatches, csrfToken, requestAddress, setSessionCookie, siteOrigin } from "./_viewer.ts";
import {
  createSession,
  findSession,
  revokeSession,
  SESSION_COOKIE,
  SESSION_SECONDS,
  type SessionTokens,
} from "../auth/sessions.ts";
import { TokenError } from "../auth/tokens.ts";

/** Where sign-in goes when `next` is missing or refused. */
const DEFAULT_NEXT = "/analytics";

/**
 * The page to go to after sign-in: `next` when it is a path on this site, else
 * `/analytics`. It is parsed as a URL against the site's origin (as the browser will) and
 * must keep that origin; control characters (which browsers drop, turning `/\t/evil` into
 * `//evil`) are refused outright.
 *
 * @param next The `next` parameter as given.
 * @param origin This site's origin.
 * @returns A path with its query and fragment.
 */
export function safeNext(next: unknown, origin: string): string {
  if (typeof next !== "string" || !next.startsWith("/") || next.length > 2000) {
    return DEFAULT_NEXT;
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return DEFAULT_NEXT;
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return DEFAULT_NEXT;
  }
  if (url.origin !== new URL(origin).origin) return DEFAULT_NEXT;
  // "/.//evil.example" normalises to "//evil.example", which a browser reads as another host.
  if (url.pathname.startsWith("//")) return DEFAULT_NEXT;
  return `${url.pathname}${url.search}${url.hash}`;
}

function LoginPage(props: { csrf: string; next: string; error?: string; email?: string }) {
  return (
    <Layout title="Sign in">
      <div class="login card">
        <h1>Sign in to Beacon</h1>
        {props.error && <p class="error" role="alert">{props.error}</p>}
        <form method="post" action="/login">
          <input type="hidden" name="csrf" value={props.csrf} />
          <input type="hidden" name="next" value={props.next} />
          <label>
            Email
            <input
              type="email"
              name="email"
              autocomplete="username"
              required
              value={props.email ?? ""}
            />
          </label>
          <label>
            Password
            <input type="password" name="password" autocomplete="current-password" required />
          </label>
          <button class="primary" type="submit">Sign in</button>
        </form>
      </div>
    </Layout>
  );
}

const login = new Hono<AppEnv>();

/**
 * hono/csrf's check that a form was posted from this site: `Sec-Fetch-Site: same-origin`, or
 * an `Origin` equal to the site's public origin (behind a proxy: the forwarded `Host` and,
 * from a trusted proxy, `X-Forwarded-Proto`).
 */
const sameOriginForm = csrf({ origin: (origin, c) => origin === siteOrigin(c) });

/** The largest sign-in or sign-out form, in bytes: an email, a password, a token, a path. */
export const MAX_FORM_BYTES = 16 * 1024;
/** The longest email address accepted (RFC 5321's path limit). */
const MAX_EMAIL_LENGTH = 254;
/** The longest password accepted (bcrypt reads 72 bytes; a long one is still refused early). */
const MAX_PASSWORD_LENGTH = 1024;

login.on(
  "POST",
  ["/login", "/logout"],
  bodyLimit({
    maxSize: MAX_FORM_BYTES,
    onError: (c) => c.text(`The form is over ${MAX_FORM_BYTES} bytes.`, 413),
  }),
);

login.on("POST", ["/login", "/logout"], async function formFromThisSite(c, next) {
  let passed = false;
  try {
    await sameOriginForm(c, () => {
      passed = true;
      return Promise.resolve();
    });
  } catch (error) {
    if (!(error instanceof HTTPException)) throw error;
  }
  if (!passed) {
    return c.text("This form was sent from another site; open Beacon and try again.", 403);
  }
  await next();
});

login.get(
  "/login",
  (c) =>
    sendPage(
      c,
      <LoginPage csrf={csrfToken(c)} next={safeNext(c.req.query("next"), siteOrigin(c))} />,
    ),
);

login.post("/login", async (c) => {
  const { db, verifier, supabaseSignIn, signInLimiter, log } = c.var.deps;
  const form = await c.req.parseBody();
  const next = safeNext(form.next, siteOrigin(c));
  const email = String(form.email ?? "").trim().toLowerCase();
  const password = String(form.password ?? "");
  const page = (error: string, status: 400 | 401 | 429) =>
    sendPage(c, <LoginPage csrf={csrfToken(c)} next={next} error={error} email={email} />, status);
  if (!csrfMatches(c, form.csrf)) return page("This form has expired. Please sign in again.", 400);
  if (!email || !password) return page("Enter your email and password.", 400);
  if (email.length > MAX_EMAIL_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    return page(
      `The email is at most ${MAX_EMAIL_LENGTH} characters, the password ${MAX_PASSWORD_LENGTH}.`,
      400,
    );
  }
  if (email.includes("\0") || password.includes("\0")) {
    return page("Email and password cannot contain the NUL character.", 400);
  }

  // Counted in the database before the password is checked, in the same SQL call as the
  // check of the limit: simultaneous attempts, on any process or isolate, cannot all pass a
  // check that none of them has been counted in yet.
  const { attempt, retryAfterMs } = await signInLimiter.begin(email, requestAddress(c));
  if (!attempt) {
    c.header("retry-after", String(Math.ceil(retryAfterMs / 1000)));
    return page(
      `Too many failed sign-ins. Try again in ${Math.ceil(retryAfterMs / 60000)} minute(s).`,
      429,
    );
  }

  let signedIn: { userId: string; tokens?: SessionTokens } | null = null;
  try {
    if (supabaseSignIn) {
      const tokens = await supabaseSignIn(email, password);
      if (tokens) signedIn = { userId: (await verifier.verify(tokens.accessToken)).sub, tokens };
    } else {
      const [user] = await db.query<{ user_id: string }>(
        "select user_id::text from beacon.authenticate($1, $2)",
        [email, password],
      );
      if (user) signedIn = { userId: user.user_id };
    }
  } catch (error) {
    // Not an answer about the password: the attempt does not count.
    await signInLimiter.forget(attempt).catch((forgetting) =>
      log.warn("a failed sign-in attempt stays counted", {
        request_id: c.var.requestId,
        error: String(forgetting),
      })
    );
    // A token Supabase Auth just issued that does not verify is Beacon's misconfiguration
    // (a 500, logged), not the 401 a refused token is elsewhere.
    if (error instanceof TokenError) {
      throw new Error(`Supabase Auth issued a token Beacon cannot verify: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  if (!signedIn) {
    log.warn("sign-in refused", { request_id: c.var.requestId });
    return page("Wrong email or password.", 401);
  }
  await signInLimiter.succeeded(email, attempt);
  const previous = getCookie(c, SESSION_COOKIE);
  if (previous) await revokeSession(db, previous);
  const secret = await createSession(db, { ...signedIn, seconds: SESSION_SECONDS });
  setSessionCookie(c, secret);
  return c.redirect(next, 303);
});

login.post("/logout", async (c) => {
  const { db } = c.var.deps;
  const form = await c.req.parseBody();
  const secret = getCookie(c, SESSION_COOKIE);
  if (secret && await findSession(db, secret)) {
    if (!csrfMatches(c, form.csrf, secret)) {
      return c.text("This form has expired; reload the page.", 400);
    }
    await revokeSession(db, secret);
  }
  setSessionCookie(c, "");
  return c.redirect("/login", 303);
});

export default login;
