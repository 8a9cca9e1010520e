import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CookieJar,
  dashboardUrl,
  expectError,
  goodPassword,
  signUpWithTokens,
  startTestServer,
  type TestServer,
  testDriver,
  testStoreKind,
} from "./helpers/harness.ts";
import { type LocalOidcProvider, startOidcProvider } from "./helpers/oidc-provider.ts";

describe(`Google sign-in against a local OpenID provider on ${testDriver} + ${testStoreKind}`, () => {
  let provider: LocalOidcProvider;
  let server: TestServer;
  const accounts = {
    alice: {
      sub: "google-alice",
      email: "alice@gmail.example",
      emailVerified: true,
      name: "Alice",
    },
    bob: { sub: "google-bob", email: "bob@gmail.example", emailVerified: true, name: "Bob" },
    carol: { sub: "google-carol", email: "carol@gmail.example", emailVerified: true },
    dave: { sub: "google-dave", email: "dave@gmail.example", emailVerified: true },
    erin: { sub: "google-erin", email: "erin@gmail.example", emailVerified: true },
    unverified: { sub: "google-unverified", email: "mallory@gmail.example", emailVerified: false },
  };

  beforeAll(async () => {
    provider = await startOidcProvider(`${dashboardUrl}/auth/google/callback`, accounts);
    server = await startTestServer(provider.env);
  });

  afterAll(async () => {
    await server.stop();
    await provider.close();
  });

  /** A browser that starts the flow on the dashboard and comes back with state and code. */
  async function visitGoogle(login: string, jar = new CookieJar()) {
    const browser = server.client({ jar });
    const { url } = await browser.google.start.mutate();
    const redirect = await provider.authorize(url, login);
    return { browser, jar, state: redirect.get("state") ?? "", code: redirect.get("code") ?? "" };
  }

  test("a new user signs in with Google and gets a verified account and a session", async () => {
    const { browser, state, code } = await visitGoogle("alice");

    const result = await browser.google.callback.mutate({ state, code });

    expect(result.linked).toBe(false);
    expect(result.user).toMatchObject({
      email: "alice@gmail.example",
      emailVerified: true,
      name: "Alice",
    });
    const profile = await browser.profile.get.query();
    expect(profile.id).toBe(result.user.id);
    expect(profile.identities.map((identity) => identity.provider)).toEqual(["google"]);

    const again = await visitGoogle("alice");
    const second = await again.browser.google.callback.mutate({
      state: again.state,
      code: again.code,
      mode: "token",
    });
    expect(second.user.id).toBe(result.user.id);
    expect(second.tokens?.accessToken).toBeString();
  });

  /** Puts a state in the browser's state cookie, as if the browser had started that flow. */
  function pinState(jar: CookieJar, state: string) {
    const cookie = `${server.config.COOKIE_NAME}_oauth_state=${state}`;
    jar.take(new Response(null, { headers: { "set-cookie": cookie } }));
  }

  test("a wrong state is refused", async () => {
    const { browser, jar, code } = await visitGoogle("bob");
    const wrongState = "x".repeat(43);
    pinState(jar, wrongState);

    await expectError(browser.google.callback.mutate({ state: wrongState, code }), {
      code: "BAD_REQUEST",
      appCode: "OAUTH_STATE_INVALID",
    });
  });

  test("a state from another browser is refused (login CSRF)", async () => {
    const attacker = await visitGoogle("bob");
    const victim = server.client({ jar: new CookieJar() });

    await expectError(
      victim.google.callback.mutate({ state: attacker.state, code: attacker.code }),
      {
        appCode: "OAUTH_STATE_INVALID",
      },
    );
  });

  test("a replayed code is refused, with its old state and with a fresh one", async () => {
    const first = await visitGoogle("bob");
    await first.browser.google.callback.mutate({ state: first.state, code: first.code });
    pinState(first.jar, first.state);

    await expectError(
      first.browser.google.callback.mutate({ state: first.state, code: first.code }),
      {
        appCode: "OAUTH_STATE_INVALID",
      },
    );

    const { url } = await first.browser.google.start.mutate();
    const freshState = new URL(url).searchParams.get("state") ?? "";
    expect(first.jar.get(`${server.config.COOKIE_NAME}_oauth_state`)).toBe(freshState);
    await expectError(
      first.browser.google.callback.mutate({ state: freshState, code: first.code }),
      {
        code: "BAD_REQUEST",
        appCode: "OAUTH_CODE_INVALID",
      },
    );
  });

  test("an email the provider has not verified is refused", async () => {
    const { browser, state, code } = await visitGoogle("unverified");

    await expectError(browser.google.callback.mutate({ state, code }), {
      code: "FORBIDDEN",
      appCode: "EMAIL_UNVERIFIED_AT_PROVIDER",
    });
  });

  test("Google links to the existing account with the same verified email", async () => {
    const registered = await signUpWithTokens(server, accounts.carol.email);
    const { browser, state, code } = await visitGoogle("carol");

    const result = await browser.google.callback.mutate({ state, code });

    expect(result.user.id).toBe(registered.user.id);
    const providers = (await browser.profile.get.query()).identities.map(
      (identity) => identity.provider,
    );
    expect(providers.sort()).toEqual(["google", "password"]);
    const withPassword = await server
      .client()
      .auth.signIn.mutate({ email: accounts.carol.email, password: goodPassword });
    expect(withPassword.user.id).toBe(registered.user.id);
  });

  test("someone who registered another's address unverified loses the password to Google", async () => {
    const anonymous = server.client();
    await anonymous.auth.register.mutate({
      email: accounts.dave.email,
      password: "squatter's long password",
    });

    const { browser, state, code } = await visitGoogle("dave");
    await browser.google.callback.mutate({ state, code });

    await expectError(
      anonymous.auth.signIn.mutate({
        email: accounts.dave.email,
        password: "squatter's long password",
      }),
      { appCode: "INVALID_CREDENTIALS" },
    );
  });

  test("a signed-in user links Google; another user cannot finish that link", async () => {
    const owner = await signUpWithTokens(server);
    const jar = new CookieJar();
    const browser = server.client({ jar });
    await browser.auth.signIn.mutate({ email: owner.email, password: goodPassword });

    const { url } = await browser.google.start.mutate({ link: true });
    const redirect = await provider.authorize(url, "erin");
    const state = redirect.get("state") ?? "";
    const code = redirect.get("code") ?? "";

    const intruderJar = new CookieJar();
    const intruder = await signUpWithTokens(server);
    await server
      .client({ jar: intruderJar })
      .auth.signIn.mutate({ email: intruder.email, password: goodPassword });
    pinState(intruderJar, state);
    await expectError(server.client({ jar: intruderJar }).google.callback.mutate({ state, code }), {
      appCode: "OAUTH_STATE_INVALID",
    });

    const again = await browser.google.start.mutate({ link: true });
    const second = await provider.authorize(again.url, "erin");
    const linked = await browser.google.callback.mutate({
      state: second.get("state") ?? "",
      code: second.get("code") ?? "",
    });
    expect(linked).toMatchObject({ linked: true, user: { id: owner.user.id, email: owner.email } });
    const providers = (await browser.profile.get.query()).identities.map(
      (identity) => identity.provider,
    );
    expect(providers.sort()).toEqual(["google", "password"]);
  });

  test("linking needs a signed-in user", async () => {
    await expectError(server.client().google.start.mutate({ link: true }), {
      code: "UNAUTHORIZED",
      appCode: "UNAUTHENTICATED",
    });
  });
});
