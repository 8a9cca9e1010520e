import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import {
  CookieJar,
  expectError,
  goodPassword,
  signUpWithTokens,
  testDriver,
  testStoreKind,
  uniqueEmail,
  useTestServer,
  verificationTokenFor,
} from "./helpers/harness.ts";

describe(`sign-in limits and secret handling on ${testDriver} + ${testStoreKind}`, () => {
  let ipCounter = 0;
  // Behind a trusted proxy each test can speak from its own client address.
  const server = useTestServer({ TRUST_PROXY: "true", SIGN_IN_MAX_FAILURES_PER_IP: "20" });

  function clientFrom(headers: Record<string, string> = {}) {
    ipCounter += 1;
    return server.client({ headers: { "x-forwarded-for": `192.0.2.${ipCounter}`, ...headers } });
  }

  test("ten wrong passwords in a row lock the account, even for the right password", async () => {
    const { email } = await signUpWithTokens(server);
    const attacker = clientFrom();

    for (let attempt = 1; attempt <= 10; attempt += 1) {
      await expectError(
        attacker.auth.signIn.mutate({ email, password: `wrong guess ${attempt}` }),
        {
          code: "UNAUTHORIZED",
          appCode: "INVALID_CREDENTIALS",
        },
      );
    }

    const owner = clientFrom();
    const locked = await expectError(owner.auth.signIn.mutate({ email, password: goodPassword }), {
      code: "TOO_MANY_REQUESTS",
      appCode: "SIGN_IN_LOCKED",
    });
    expect(locked.details?.retryAfterSeconds).toBeGreaterThan(0);
    expect(locked.details?.retryAfterSeconds).toBeLessThanOrEqual(
      server.config.SIGN_IN_LOCK_SECONDS,
    );
  });

  test("a success resets the count: failures must be in a row", async () => {
    const { email } = await signUpWithTokens(server);
    const user = clientFrom();

    for (let round = 0; round < 2; round += 1) {
      for (let attempt = 0; attempt < 9; attempt += 1) {
        await expectError(user.auth.signIn.mutate({ email, password: "not my password" }), {
          appCode: "INVALID_CREDENTIALS",
        });
      }
      const signedIn = await user.auth.signIn.mutate({ email, password: goodPassword });
      expect(signedIn.user.email).toBe(email);
    }
  });

  test("an unknown email gets the same answer as a wrong password", async () => {
    const { email } = await signUpWithTokens(server);
    const client = clientFrom();

    const wrongPassword = await client.auth.signIn
      .mutate({ email, password: "not the password" })
      .catch((error: Error) => error.message);
    const unknownEmail = await client.auth.signIn
      .mutate({ email: uniqueEmail("nobody"), password: "not the password" })
      .catch((error: Error) => error.message);

    expect(unknownEmail).toBe(wrongPassword);
    await expectError(client.auth.signIn.mutate({ email: uniqueEmail("nobody"), password: "x" }), {
      appCode: "INVALID_CREDENTIALS",
    });
  });

  test("too many failures from one address lock that address for every account", async () => {
    const { email } = await signUpWithTokens(server);
    const headers = { "x-forwarded-for": "198.51.100.7" };
    const sprayer = server.client({ headers });

    for (let attempt = 0; attempt < server.config.SIGN_IN_MAX_FAILURES_PER_IP; attempt += 1) {
      await expectError(
        sprayer.auth.signIn.mutate({ email: uniqueEmail("spray"), password: "Summer2024!!" }),
        {
          appCode: "INVALID_CREDENTIALS",
        },
      );
    }

    await expectError(sprayer.auth.signIn.mutate({ email, password: goodPassword }), {
      appCode: "SIGN_IN_LOCKED",
    });
    const elsewhere = await clientFrom().auth.signIn.mutate({ email, password: goodPassword });
    expect(elsewhere.user.email).toBe(email);
  });

  test("passwords, tokens and session ids are stored only as hashes and never logged", async () => {
    const email = uniqueEmail("secrets");
    const password = "a secret passphrase nobody guesses";
    const newPassword = "another secret passphrase entirely";
    const client = clientFrom();
    await client.auth.register.mutate({ email, password });
    const verificationToken = await verificationTokenFor(server.db, email);
    await client.auth.verifyEmail.mutate({ token: verificationToken });
    await expectError(client.auth.signIn.mutate({ email, password: `${password}!` }), {
      appCode: "INVALID_CREDENTIALS",
    });
    const signedIn = await client.auth.signIn.mutate({ email, password, mode: "token" });
    const tokens = signedIn.tokens;
    if (!tokens) {
      throw new Error("no tokens");
    }
    const refreshed = await client.auth.refresh.mutate({ refreshToken: tokens.refreshToken });
    const jar = new CookieJar();
    await server.client({ jar }).auth.signIn.mutate({ email, password });
    const cookieSessionId = jar.get(server.config.COOKIE_NAME) ?? "";
    await server.client({ token: refreshed.accessToken }).profile.changePassword.mutate({
      currentPassword: password,
      newPassword,
    });

    const secrets = {
      password,
      newPassword,
      verificationToken,
      refreshToken: tokens.refreshToken,
      nextRefreshToken: refreshed.refreshToken,
      accessToken: tokens.accessToken,
      cookieSessionId,
    };
    expect(cookieSessionId.length).toBeGreaterThan(20);

    // Every table except the outbox, whose rows are the mails themselves (links included).
    const tables = [
      "users",
      "identities",
      "auth_sessions",
      "refresh_tokens",
      "email_verification_tokens",
    ];
    const stored: string[] = [];
    for (const table of tables) {
      const result = await server.db.execute(sql.raw(`select * from ${table}`));
      const rows = Array.isArray(result) ? result : (result as { rows: unknown[] }).rows;
      stored.push(JSON.stringify(rows));
    }
    const database = stored.join("\n");
    expect(database).toContain("$argon2id$");
    const logs = server.logs.text();
    expect(server.logs.find("signed in").length).toBeGreaterThan(0);

    for (const [name, secret] of Object.entries(secrets)) {
      expect({ name, inDatabase: database.includes(secret) }).toEqual({ name, inDatabase: false });
      expect({ name, inLogs: logs.includes(secret) }).toEqual({ name, inLogs: false });
    }
  });
});
