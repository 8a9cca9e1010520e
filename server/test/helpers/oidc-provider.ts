import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { CookieJar } from "./cookie-jar.ts";

/** A person the local provider knows, by the login name typed on its sign-in page. */
export interface ProviderAccount {
  sub: string;
  email: string;
  emailVerified: boolean;
  name?: string;
}

export interface LocalOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Endpoints in the shape the server's config takes. */
  env: Record<string, string>;
  /**
   * Plays the user in a browser: opens the authorization URL, signs in as `login` and consents
   * on the provider's own pages, and returns the query of the redirect back to the dashboard.
   */
  authorize(authorizationUrl: string, login: string): Promise<URLSearchParams>;
  close(): Promise<void>;
}

/**
 * Starts oidc-provider on 127.0.0.1 with one confidential client, as a stand-in for Google.
 * Its built-in development pages handle login and consent; they accept any password.
 */
export async function startOidcProvider(
  redirectUri: string,
  accounts: Record<string, ProviderAccount>,
): Promise<LocalOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = "viper-portal-test";
  const clientSecret = "a-test-client-secret-that-is-long-enough";

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    ttl: {
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: 600,
      IdToken: 600,
    },
    // Google puts the profile in the ID token too; the server reads it from there.
    conformIdTokenClaims: false,
    async findAccount(_ctx, id) {
      const account = Object.values(accounts).find((candidate) => candidate.sub === id);
      if (!account) {
        return undefined;
      }
      return {
        accountId: account.sub,
        async claims() {
          return {
            sub: account.sub,
            email: account.email,
            email_verified: account.emailVerified,
            name: account.name,
          };
        },
      };
    },
  });
  server.on("request", provider.callback());

  async function authorize(authorizationUrl: string, login: string): Promise<URLSearchParams> {
    const browser = new CookieJar();
    let response = await browser.fetch(authorizationUrl);
    for (let step = 0; step < 10; step += 1) {
      const location = response.headers.get("location");
      if (!location) {
        throw new Error(`provider stopped at ${response.status}: ${await response.text()}`);
      }
      const next = new URL(location, issuer);
      if (next.href.startsWith(redirectUri)) {
        return next.searchParams;
      }
      if (!next.pathname.startsWith("/interaction/")) {
        response = await browser.fetch(next.href);
        continue;
      }
      const page = await (await browser.fetch(next.href)).text();
      const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
      // The provider's session keys accounts by the id typed here, so the subject is typed.
      const accountId = accounts[login]?.sub ?? login;
      const form = new URLSearchParams({
        prompt: prompt ?? "login",
        login: accountId,
        password: "any",
      });
      response = await browser.fetch(next.href, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
    }
    throw new Error("provider did not redirect back");
  }

  return {
    issuer,
    clientId,
    clientSecret,
    env: {
      GOOGLE_CLIENT_ID: clientId,
      GOOGLE_CLIENT_SECRET: clientSecret,
      GOOGLE_REDIRECT_URI: redirectUri,
      OIDC_AUTHORIZATION_ENDPOINT: `${issuer}/auth`,
      OIDC_TOKEN_ENDPOINT: `${issuer}/token`,
      OIDC_JWKS_URL: `${issuer}/jwks`,
      OIDC_ISSUERS: issuer,
    },
    authorize,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
