import { describe, expect, test } from "bun:test";
import { testDriver } from "@viper/db/testing";
import {
  CookieJar,
  expectError,
  goodPassword,
  signUpWithTokens,
  testStoreKind,
  uniqueEmail,
  useTestServer,
  verificationTokenFor,
} from "./helpers/harness.ts";

describe(`accounts on ${testDriver} + ${testStoreKind}`, () => {
  const server = useTestServer();

  test("an API client registers, verifies, signs in, edits its profile, refreshes and signs out", async () => {
    const email = uniqueEmail("flow");
    const anonymous = server.client();

    const registered = await anonymous.auth.register.mutate({
      email: `  ${email.toUpperCase()} `,
      password: goodPassword,
      name: "Ada",
    });
    expect(registered.status).toBe("verification-sent");

    const verified = await anonymous.auth.verifyEmail.mutate({
      token: await verificationTokenFor(server.db, email),
    });
    expect(verified).toEqual({ email, verified: true });

    const signedIn = await anonymous.auth.signIn.mutate({
      email,
      password: goodPassword,
      mode: "token",
    });
    const tokens = signedIn.tokens;
    if (!tokens) {
      throw new Error("no tokens");
    }
    expect(signedIn.user).toMatchObject({ email, emailVerified: true, name: "Ada", role: "user" });

    const api = server.client({ token: tokens.accessToken });
    const updated = await api.profile.update.mutate({
      name: "Ada Lovelace",
      avatarUrl: "https://example.com/ada.png",
    });
    expect(updated).toMatchObject({
      name: "Ada Lovelace",
      avatarUrl: "https://example.com/ada.png",
    });
    const profile = await api.profile.get.query();
    expect(profile).toMatchObject({ email, name: "Ada Lovelace", emailVerified: true });
    expect(profile.identities).toEqual([
      expect.objectContaining({ provider: "password", label: email }),
    ]);

    const refreshed = await anonymous.auth.refresh.mutate({ refreshToken: tokens.refreshToken });
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    const fresh = server.client({ token: refreshed.accessToken });
    expect((await fresh.profile.get.query()).id).toBe(signedIn.user.id);

    expect(await fresh.auth.signOut.mutate()).toEqual({ signedOut: true });
    await expectError(fresh.profile.get.query(), {
      code: "UNAUTHORIZED",
      appCode: "SESSION_REVOKED",
    });
    await expectError(api.profile.get.query(), {
      code: "UNAUTHORIZED",
      appCode: "SESSION_REVOKED",
    });
    await expectError(anonymous.auth.refresh.mutate({ refreshToken: refreshed.refreshToken }), {
      appCode: "REFRESH_TOKEN_INVALID",
    });
  });

  test("the dashboard signs in with an HTTP-only session cookie and signs out", async () => {
    const { email } = await signUpWithTokens(server);
    const jar = new CookieJar();
    const browser = server.client({ jar });

    const signedIn = await browser.auth.signIn.mutate({ email, password: goodPassword });
    expect(signedIn.tokens).toBeNull();
    const cookie = jar.get(server.config.COOKIE_NAME);
    expect(cookie).toBeString();
    expect((await browser.profile.get.query()).email).toBe(email);

    await browser.auth.signOut.mutate();
    expect(jar.get(server.config.COOKIE_NAME)).toBeUndefined();
    const replay = server.client({ headers: { cookie: `${server.config.COOKIE_NAME}=${cookie}` } });
    await expectError(replay.profile.get.query(), { appCode: "SESSION_REVOKED" });
  });

  test("the session cookie is HTTP-only, SameSite=Lax, and refused from a foreign origin", async () => {
    const { email } = await signUpWithTokens(server);
    const response = await fetch(`${server.url}/trpc/auth.signIn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: goodPassword }),
    });
    const setCookie = response.headers.getSetCookie().join("\n");
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");

    const jar = new CookieJar();
    jar.take(response);
    const foreign = server.client({ jar, headers: { origin: "https://evil.example" } });
    await expectError(foreign.auth.signOut.mutate(), { code: "FORBIDDEN" });
  });

  test("an unverified account signs in but is not verified until the link is used", async () => {
    const email = uniqueEmail("unverified");
    const anonymous = server.client();
    await anonymous.auth.register.mutate({ email, password: goodPassword });

    const signedIn = await anonymous.auth.signIn.mutate({
      email,
      password: goodPassword,
      mode: "token",
    });
    expect(signedIn.user.emailVerified).toBe(false);

    const api = server.client({ token: signedIn.tokens?.accessToken ?? "" });
    await api.auth.resendVerification.mutate();
    await anonymous.auth.verifyEmail.mutate({
      token: await verificationTokenFor(server.db, email),
    });
    expect((await api.profile.get.query()).emailVerified).toBe(true);
  });

  test("a verification link works once", async () => {
    const email = uniqueEmail("once");
    const anonymous = server.client();
    await anonymous.auth.register.mutate({ email, password: goodPassword });
    const token = await verificationTokenFor(server.db, email);

    await anonymous.auth.verifyEmail.mutate({ token });
    await expectError(anonymous.auth.verifyEmail.mutate({ token }), {
      code: "BAD_REQUEST",
      appCode: "VERIFICATION_TOKEN_INVALID",
    });
  });

  test("registering a taken email answers the same and mails the owner instead", async () => {
    const { email } = await signUpWithTokens(server);
    const again = await server
      .client()
      .auth.register.mutate({ email: email.toUpperCase(), password: "another long passphrase" });
    expect(again.status).toBe("verification-sent");

    await expectError(
      server.client().auth.signIn.mutate({ email, password: "another long passphrase" }),
      { appCode: "INVALID_CREDENTIALS" },
    );
    const mails = await server.db.query.mailOutbox.findMany({
      where: (mail, { and, eq }) => and(eq(mail.recipient, email), eq(mail.kind, "account-exists")),
    });
    expect(mails).toHaveLength(1);
  });

  test("weak passwords and bad emails are refused with the field named", async () => {
    const anonymous = server.client();
    const short = await expectError(
      anonymous.auth.register.mutate({ email: uniqueEmail(), password: "short" }),
      { code: "BAD_REQUEST", appCode: "INVALID_INPUT" },
    );
    expect(short.issues?.[0]?.path).toEqual(["password"]);

    const common = await expectError(
      anonymous.auth.register.mutate({ email: uniqueEmail(), password: "Password123" }),
      { code: "BAD_REQUEST" },
    );
    expect(common.issues?.[0]?.message).toContain("too common");

    const badEmail = await expectError(
      anonymous.auth.register.mutate({ email: "not-an-email", password: goodPassword }),
      { code: "BAD_REQUEST" },
    );
    expect(badEmail.issues?.[0]?.path).toEqual(["email"]);
  });

  test("an email change takes effect only when the new address is verified", async () => {
    const { email, tokens } = await signUpWithTokens(server);
    const api = server.client({ token: tokens.accessToken });
    const newEmail = uniqueEmail("moved");

    await expectError(
      api.profile.changeEmail.mutate({ newEmail, currentPassword: "wrong password!" }),
      {
        appCode: "PASSWORD_INCORRECT",
      },
    );
    const pending = await api.profile.changeEmail.mutate({
      newEmail,
      currentPassword: goodPassword,
    });
    expect(pending.pendingEmail).toBe(newEmail);
    expect((await api.profile.get.query()).email).toBe(email);

    await server
      .client()
      .auth.verifyEmail.mutate({ token: await verificationTokenFor(server.db, newEmail) });
    expect(await api.profile.get.query()).toMatchObject({ email: newEmail, emailVerified: true });
    const again = await server
      .client()
      .auth.signIn.mutate({ email: newEmail, password: goodPassword });
    expect(again.user.email).toBe(newEmail);
  });

  test("a password change ends the other sessions and their refresh tokens, not this one", async () => {
    const { email, tokens } = await signUpWithTokens(server);
    const other = await server
      .client()
      .auth.signIn.mutate({ email, password: goodPassword, mode: "token" });
    const api = server.client({ token: tokens.accessToken });
    const newPassword = "a different long passphrase";

    await api.profile.changePassword.mutate({ currentPassword: goodPassword, newPassword });

    expect((await api.profile.get.query()).email).toBe(email);
    await expectError(server.client({ token: other.tokens?.accessToken }).profile.get.query(), {
      appCode: "SESSION_REVOKED",
    });
    await expectError(
      server.client().auth.refresh.mutate({ refreshToken: other.tokens?.refreshToken ?? "" }),
      {
        code: "UNAUTHORIZED",
      },
    );
    await expectError(server.client().auth.signIn.mutate({ email, password: goodPassword }), {
      appCode: "INVALID_CREDENTIALS",
    });
    const withNew = await server.client().auth.signIn.mutate({ email, password: newPassword });
    expect(withNew.user.email).toBe(email);
  });

  test("a user lists their sessions and revokes another one", async () => {
    const { email, tokens } = await signUpWithTokens(server);
    const jar = new CookieJar();
    await server
      .client({ jar, headers: { "user-agent": "dashboard-browser" } })
      .auth.signIn.mutate({
        email,
        password: goodPassword,
      });
    const api = server.client({ token: tokens.accessToken });

    const sessions = await api.profile.sessions.query();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((session) => session.current)).toHaveLength(1);
    const browserSession = sessions.find((session) => session.userAgent === "dashboard-browser");
    if (!browserSession) {
      throw new Error("browser session not listed");
    }

    expect(await api.profile.revokeSession.mutate({ sessionId: browserSession.id })).toEqual({
      revoked: true,
    });
    await expectError(server.client({ jar }).profile.get.query(), { appCode: "SESSION_REVOKED" });
    expect(await api.profile.sessions.query()).toHaveLength(1);
  });

  test("an avatar must be an https address", async () => {
    const { tokens } = await signUpWithTokens(server);
    const api = server.client({ token: tokens.accessToken });
    const refused = await expectError(
      api.profile.update.mutate({ avatarUrl: "http://example.com/a.png" }),
      {
        code: "BAD_REQUEST",
      },
    );
    expect(refused.issues?.[0]?.path).toEqual(["avatarUrl"]);
  });
});
