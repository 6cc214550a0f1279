/**
 * The sign-in lockout against a real server over sockets: a hundred simultaneous wrong
 * passwords for one account get at most five password checks; the rest, and the right
 * password after them, get 429.
 */
import assert from "node:assert/strict";
import type { Database } from "../database/mod.ts";
import { createTestApp } from "./support/app.ts";
import { openMigratedPglite } from "./support/database.ts";

Deno.test("100 simultaneous wrong passwords get at most 5 password checks; the rest and then the right password get 429", async () => {
  const real = await openMigratedPglite();
  await real.query("select beacon.create_user('target@lockout.test', 'the-right-password', true)");
  // Counts password checks; each takes a moment on "another machine" (as bcrypt does on a
  // PostgreSQL server), leaving the event loop free, so the requests really overlap.
  let passwordChecks = 0;
  const counting: Database = Object.create(real, {
    query: {
      value: async (text: string, params?: unknown[]) => {
        if (text.includes("beacon.authenticate")) {
          passwordChecks++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return await real.query(text, params);
      },
    },
  });
  const t = await createTestApp({ db: counting });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    const form = await fetch(`${url}/login`);
    const cookie = form.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    const attempt = async (password: string) => {
      const res = await fetch(`${url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie, origin: url },
        body: new URLSearchParams({ csrf, email: "target@lockout.test", password, next: "/" }),
      });
      await res.body?.cancel();
      return res.status;
    };
    const statuses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => attempt(`wrong-password-${i}`)),
    );
    const count = (status: number) => statuses.filter((s) => s === status).length;
    assert.ok(passwordChecks <= 5, `${passwordChecks} passwords were checked`);
    assert.equal(count(401), passwordChecks, "every checked password was refused");
    assert.equal(count(429), 100 - passwordChecks, "every other attempt was turned away");
    assert.equal(await attempt("the-right-password"), 429, "the right password comes too late");
    assert.ok(passwordChecks <= 5, "and was not even checked");
  } finally {
    await server.shutdown();
    await real.close();
  }
});
