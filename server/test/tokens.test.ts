import { describe, expect, test } from "bun:test";
import { createTRPCClient, httpLink } from "@trpc/client";
import { createLogger } from "@viper/shared/logger";
import { decodeJwt, importJWK, type JWK, SignJWT } from "jose";
import { createServerApp } from "../src/app.ts";
import { generateSigningJwk } from "../src/auth/access-tokens.ts";
import { loadServerConfig } from "../src/config.ts";
import type { AppErrorCode } from "../src/errors.ts";
import type { AppRouter } from "../src/router.ts";
import {
  expectError,
  signUpWithTokens,
  testDriver,
  testStoreKind,
  useTestServer,
} from "./helpers/harness.ts";

interface ForgeOptions {
  jwk: JWK;
  claims: Record<string, unknown>;
  header?: Record<string, unknown>;
  audience?: string;
  issuer?: string;
  expiresAt?: number;
}

/** Signs a token the way a forger or a misconfigured client would. */
async function forge(options: ForgeOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const key = await importJWK(options.jwk, "EdDSA");
  return new SignJWT(options.claims)
    .setProtectedHeader({ alg: "EdDSA", kid: options.jwk.kid, typ: "at+jwt", ...options.header })
    .setIssuedAt(now - 60)
    .setExpirationTime(options.expiresAt ?? now + 600)
    .setIssuer(options.issuer ?? "http://127.0.0.1:3000")
    .setAudience(options.audience ?? "viper-portal")
    .sign(key);
}

describe(`access and refresh tokens on ${testDriver} + ${testStoreKind}`, () => {
  const server = useTestServer();

  test("a reused refresh token revokes its whole family", async () => {
    const { tokens } = await signUpWithTokens(server);
    const anonymous = server.client();
    const second = await anonymous.auth.refresh.mutate({ refreshToken: tokens.refreshToken });
    const third = await anonymous.auth.refresh.mutate({ refreshToken: second.refreshToken });

    // Someone replays the first token after the client has moved on twice.
    await expectError(anonymous.auth.refresh.mutate({ refreshToken: tokens.refreshToken }), {
      code: "UNAUTHORIZED",
      appCode: "REFRESH_TOKEN_REUSED",
    });

    await expectError(anonymous.auth.refresh.mutate({ refreshToken: third.refreshToken }), {
      appCode: "REFRESH_TOKEN_INVALID",
    });
    await expectError(server.client({ token: third.accessToken }).profile.get.query(), {
      appCode: "SESSION_REVOKED",
    });
    expect(server.logs.find("refresh token reused; family revoked")).not.toHaveLength(0);
  });

  test("two refreshes at the same moment with one token give exactly one new pair", async () => {
    for (let round = 0; round < 3; round += 1) {
      const { tokens } = await signUpWithTokens(server);
      const first = server.client({ unbatched: true });
      const second = server.client({ unbatched: true });

      const results = await Promise.allSettled([
        first.auth.refresh.mutate({ refreshToken: tokens.refreshToken }),
        second.auth.refresh.mutate({ refreshToken: tokens.refreshToken }),
      ]);

      const winners = results.filter((result) => result.status === "fulfilled");
      expect(winners).toHaveLength(1);
      const loser = results.find((result) => result.status === "rejected");
      await expectError(Promise.reject(loser?.reason), { appCode: "REFRESH_TOKEN_INVALID" });
      // The race is not taken for theft: the winner's pair keeps working.
      const pair = winners[0]?.status === "fulfilled" ? winners[0].value : null;
      const next = await server
        .client()
        .auth.refresh.mutate({ refreshToken: pair?.refreshToken ?? "" });
      expect(next.accessToken).toBeString();
    }
  });

  test("the access token carries the documented claims and lives 15 minutes", async () => {
    const { user, tokens } = await signUpWithTokens(server);
    const claims = decodeJwt(tokens.accessToken);

    expect(claims).toMatchObject({
      sub: user.id,
      role: "user",
      iss: "http://127.0.0.1:3000",
      aud: "viper-portal",
    });
    expect(claims.sid).toBeString();
    expect(claims.jti).toBeString();
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(15 * 60);
  });

  test("a token forged with the server's key and a live session is accepted (control case)", async () => {
    const { user, tokens } = await signUpWithTokens(server);
    const { sid } = decodeJwt(tokens.accessToken);
    const forged = await forge({
      jwk: server.signingJwk,
      claims: { sub: user.id, sid, role: "user", jti: crypto.randomUUID() },
    });

    expect((await server.client({ token: forged }).profile.get.query()).id).toBe(user.id);
  });

  test("tampered, expired, wrong-audience, wrong-key and untyped tokens are refused", async () => {
    const { user, tokens } = await signUpWithTokens(server);
    const { sid } = decodeJwt(tokens.accessToken);
    const claims = { sub: user.id, sid, role: "user", jti: crypto.randomUUID() };
    const [header = "", payload = "", signature = ""] = tokens.accessToken.split(".");
    const promoted = Buffer.from(
      JSON.stringify({ ...decodeJwt(tokens.accessToken), role: "admin" }),
    ).toString("base64url");
    const otherKey = await generateSigningJwk(server.signingJwk.kid);

    const refused: Array<[string, string, AppErrorCode]> = [
      ["tampered payload", `${header}.${promoted}.${signature}`, "TOKEN_INVALID"],
      ["tampered signature", `${header}.${payload}.${signature.slice(0, -4)}AAAA`, "TOKEN_INVALID"],
      [
        "expired",
        await forge({
          jwk: server.signingJwk,
          claims,
          expiresAt: Math.floor(Date.now() / 1000) - 5,
        }),
        "TOKEN_EXPIRED",
      ],
      [
        "wrong audience",
        await forge({ jwk: server.signingJwk, claims, audience: "other-api" }),
        "TOKEN_INVALID",
      ],
      [
        "wrong issuer",
        await forge({ jwk: server.signingJwk, claims, issuer: "https://evil.example" }),
        "TOKEN_INVALID",
      ],
      ["wrong key", await forge({ jwk: otherKey, claims }), "TOKEN_INVALID"],
      [
        "unknown kid",
        await forge({ jwk: { ...server.signingJwk, kid: "nope" }, claims }),
        "TOKEN_INVALID",
      ],
      [
        "not an access token",
        await forge({ jwk: server.signingJwk, claims, header: { typ: "JWT" } }),
        "TOKEN_INVALID",
      ],
      ["garbage", "not-a-jwt", "TOKEN_INVALID"],
    ];

    for (const [label, token, appCode] of refused) {
      const data = await expectError(server.client({ token }).profile.get.query(), {
        code: "UNAUTHORIZED",
      });
      expect({ label, appCode: data.appCode }).toEqual({ label, appCode });
    }
  });

  test("after a key rotation, tokens signed with the previous key still verify", async () => {
    const { user, tokens } = await signUpWithTokens(server);
    const { d: _private, ...previousPublic } = server.signingJwk;
    const config = loadServerConfig({
      NODE_ENV: "test",
      PUBLIC_URL: "http://127.0.0.1:3000",
      JWT_SIGNING_KEY: JSON.stringify(await generateSigningJwk("test-key-2")),
      JWT_VERIFICATION_KEYS: JSON.stringify([previousPublic]),
    });
    const logger = createLogger({ service: "server", level: "silent" });
    const rotated = await createServerApp({ config, db: server.db, store: server.store, logger });
    const client = createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: "http://rotated.test/trpc",
          headers: { authorization: `Bearer ${tokens.accessToken}` },
          fetch: (url, init) => rotated.fetch(new Request(url, init)),
        }),
      ],
    });

    expect((await client.profile.get.query()).id).toBe(user.id);
  });
});
