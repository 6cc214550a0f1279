/**
 * Sign-in and sign-out: `/login` (GET shows the form, POST checks it) and `POST /logout`.
 * Forms carry a CSRF token; failed attempts are limited per account and per address.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../server/app_env.ts";
import { Layout } from "../components/Layout.tsx";
import { sendPage } from "../server/page.ts";
import {
  cookieAttributes,
  csrfMatches,
  csrfToken,
  SESSION_COOKIE,
  SESSION_SECONDS,
} from "../server/session.ts";
import { issueAccessToken } from "../server/auth.ts";

/** Only a path on this site may follow sign-in. */
function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/(?![/\\])/.test(next) ? next : "/analytics";
}

function remoteAddress(c: Context): string {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
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

login.get(
  "/login",
  (c) => sendPage(c, <LoginPage csrf={csrfToken(c)} next={safeNext(c.req.query("next"))} />),
);

login.post("/login", async (c) => {
  const { db, localTokenSecret, supabaseSignIn, signInLimits, log } = c.var.deps;
  const form = await c.req.parseBody();
  const next = safeNext(form.next);
  const email = String(form.email ?? "").trim().toLowerCase();
  const password = String(form.password ?? "");
  const page = (error: string, status: 400 | 401 | 429) =>
    sendPage(c, <LoginPage csrf={csrfToken(c)} next={next} error={error} email={email} />, status);
  if (!csrfMatches(c, form.csrf)) return page("This form has expired. Please sign in again.", 400);
  if (!email || !password) return page("Enter your email and password.", 400);

  const address = remoteAddress(c);
  const wait = Math.max(
    signInLimits.account.retryAfterMs(email),
    signInLimits.address.retryAfterMs(address),
  );
  if (wait > 0) {
    c.header("retry-after", String(Math.ceil(wait / 1000)));
    return page(
      `Too many failed sign-ins. Try again in ${Math.ceil(wait / 60000)} minute(s).`,
      429,
    );
  }

  let token: string | null = null;
  if (supabaseSignIn) {
    token = await supabaseSignIn(email, password);
  } else {
    const [user] = await db.query<{ user_id: string; user_email: string }>(
      "select user_id::text, user_email from beacon.authenticate($1, $2)",
      [email, password],
    );
    if (user) {
      token = await issueAccessToken({ id: user.user_id, email: user.user_email }, {
        secret: localTokenSecret,
        expiresInSeconds: SESSION_SECONDS,
      });
    }
  }
  if (!token) {
    signInLimits.account.fail(email);
    signInLimits.address.fail(address);
    log.warn("sign-in refused", { request_id: c.var.requestId });
    return page("Wrong email or password.", 401);
  }
  signInLimits.account.reset(email);
  c.header(
    "set-cookie",
    `${SESSION_COOKIE}=${token}; ${cookieAttributes(c, SESSION_SECONDS, "Lax")}`,
    {
      append: true,
    },
  );
  return c.redirect(next, 303);
});

login.post("/logout", async (c) => {
  const form = await c.req.parseBody();
  if (!csrfMatches(c, form.csrf)) return c.text("This form has expired; reload the page.", 400);
  c.header("set-cookie", `${SESSION_COOKIE}=; ${cookieAttributes(c, 0, "Lax")}`, { append: true });
  return c.redirect("/login", 303);
});

export default login;
