import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import type { AppErrorCode } from "../src/errors.ts";
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

const web3authClientId = "test-web3auth-client";
const web3authIssuer = "https://api-auth.web3auth.io";

/** A stand-in for Web3Auth's JWKS endpoint, with the key that signs its ID tokens. */
async function startLocalJwks() {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const publicJwk: JWK = {
    ...(await exportJWK(publicKey)),
    kid: "web3auth-test",
    alg: "ES256",
    use: "sig",
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => Response.json({ keys: [publicJwk] }),
  });
  return { url: `http://127.0.0.1:${server.port}/jwks`, privateKey, stop: () => server.stop(true) };
}

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

async function web3authToken(
  key: SigningKey,
  claims: Record<string, unknown>,
  options: { audience?: string; expiresAt?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: "web3auth-test" })
    .setIssuer(web3authIssuer)
    .setAudience(options.audience ?? web3authClientId)
    .setIssuedAt(now - 10)
    .setExpirationTime(options.expiresAt ?? now + 3600)
    .sign(key);
}

/** The compressed public key, as Web3Auth puts social-login wallets in `wallets[].public_key`. */
function compressedPublicKey(account: PrivateKeyAccount): string {
  return secp256k1.Point.fromHex(account.publicKey.slice(2)).toHex(true);
}

describe(`wallet sign-in on ${testDriver} + ${testStoreKind}`, () => {
  let jwks: Awaited<ReturnType<typeof startLocalJwks>>;
  let server: TestServer;

  beforeAll(async () => {
    jwks = await startLocalJwks();
    server = await startTestServer({
      WEB3AUTH_CLIENT_ID: web3authClientId,
      WEB3AUTH_JWKS_URL: jwks.url,
      WEB3AUTH_ISSUERS: web3authIssuer,
      SIWE_CHAIN_IDS: "1,10",
    });
  });

  afterAll(async () => {
    await server.stop();
    await jwks.stop();
  });

  /** What a dashboard does: fetch a challenge, build the message, have the wallet sign it. */
  async function signedMessage(
    account: PrivateKeyAccount,
    changes: {
      domain?: string;
      chainId?: number;
      expirationTime?: Date;
      signer?: PrivateKeyAccount;
    } = {},
  ) {
    const challenge = await server.client().wallet.siweChallenge.mutate();
    const message = createSiweMessage({
      address: account.address,
      chainId: changes.chainId ?? 1,
      domain: changes.domain ?? challenge.domain,
      nonce: challenge.nonce,
      uri: challenge.uri,
      version: "1",
      issuedAt: new Date(),
      statement: "Sign in to Viper Portal",
      ...(changes.expirationTime ? { expirationTime: changes.expirationTime } : {}),
    });
    const signature = await (changes.signer ?? account).signMessage({ message });
    return { message, signature };
  }

  test("a wallet signs in with SIWE and its address becomes the account's identity", async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const jar = new CookieJar();
    const browser = server.client({ jar });

    const signedIn = await browser.wallet.siweSignIn.mutate(await signedMessage(wallet));

    expect(signedIn.user.email).toBeNull();
    const profile = await browser.profile.get.query();
    expect(profile.identities).toEqual([
      expect.objectContaining({ provider: "wallet", label: wallet.address }),
    ]);
    const again = await server
      .client()
      .wallet.siweSignIn.mutate({ ...(await signedMessage(wallet)), mode: "token" });
    expect(again.user.id).toBe(signedIn.user.id);
  });

  test("the challenge names the dashboard's domain and the configured chains", async () => {
    const challenge = await server.client().wallet.siweChallenge.mutate();
    expect(challenge).toMatchObject({
      domain: new URL(dashboardUrl).host,
      uri: dashboardUrl,
      chainIds: [1, 10],
    });
    expect(challenge.nonce).toMatch(/^[a-zA-Z0-9]{8,}$/);
  });

  test("a reused nonce is refused", async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const signed = await signedMessage(wallet);
    await server.client().wallet.siweSignIn.mutate(signed);

    await expectError(server.client().wallet.siweSignIn.mutate(signed), {
      code: "BAD_REQUEST",
      appCode: "SIWE_NONCE_INVALID",
    });
  });

  test("a message for another domain, an unlisted chain, past its expiry or not SIWE is refused", async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const refused = [
      await signedMessage(wallet, { domain: "evil.example" }),
      await signedMessage(wallet, { chainId: 5 }),
      await signedMessage(wallet, { expirationTime: new Date(Date.now() - 1000) }),
    ];

    const challenge = await server.client().wallet.siweChallenge.mutate();
    refused.push({
      message: `hello ${challenge.nonce}`,
      signature: await wallet.signMessage({ message: "hello" }),
    });

    for (const signed of refused) {
      await expectError(server.client().wallet.siweSignIn.mutate(signed), {
        code: "BAD_REQUEST",
        appCode: "SIWE_MESSAGE_INVALID",
      });
    }
  });

  test("a signature from another address is refused", async () => {
    const claimed = privateKeyToAccount(generatePrivateKey());
    const signer = privateKeyToAccount(generatePrivateKey());

    await expectError(
      server.client().wallet.siweSignIn.mutate(await signedMessage(claimed, { signer })),
      {
        code: "UNAUTHORIZED",
        appCode: "SIWE_SIGNATURE_INVALID",
      },
    );
  });

  test("a signed-in user links a wallet, which then signs in to the same account", async () => {
    const owner = await signUpWithTokens(server);
    const wallet = privateKeyToAccount(generatePrivateKey());
    const api = server.client({ token: owner.tokens.accessToken });

    await expectError(server.client().wallet.siweLink.mutate(await signedMessage(wallet)), {
      appCode: "UNAUTHENTICATED",
    });
    expect(await api.wallet.siweLink.mutate(await signedMessage(wallet))).toEqual({
      address: wallet.address,
    });

    const viaWallet = await server.client().wallet.siweSignIn.mutate(await signedMessage(wallet));
    expect(viaWallet.user.id).toBe(owner.user.id);
    const other = await signUpWithTokens(server);
    await expectError(
      server
        .client({ token: other.tokens.accessToken })
        .wallet.siweLink.mutate(await signedMessage(wallet)),
      { code: "CONFLICT", appCode: "IDENTITY_IN_USE" },
    );
    const withPassword = await server
      .client()
      .auth.signIn.mutate({ email: owner.email, password: goodPassword });
    expect(withPassword.user.id).toBe(owner.user.id);
  });

  test("a Web3Auth social-login token signs in with the wallet derived from its public key", async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const idToken = await web3authToken(jwks.privateKey, {
      userId: "someone@example.com",
      name: "Web3 Person",
      wallets: [
        { public_key: "ab".repeat(32), type: "web3auth_app_key", curve: "ed25519" },
        { public_key: compressedPublicKey(wallet), type: "web3auth_app_key", curve: "secp256k1" },
      ],
    });
    const jar = new CookieJar();

    const signedIn = await server.client({ jar }).wallet.web3authSignIn.mutate({ idToken });

    expect(signedIn.user.name).toBe("Web3 Person");
    const profile = await server.client({ jar }).profile.get.query();
    expect(profile.identities).toEqual([
      expect.objectContaining({ provider: "web3auth", label: wallet.address }),
    ]);
  });

  test("a Web3Auth external-wallet token reaches the account that wallet used with SIWE", async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const viaSiwe = await server.client().wallet.siweSignIn.mutate(await signedMessage(wallet));
    const idToken = await web3authToken(jwks.privateKey, {
      wallets: [{ address: wallet.address.toLowerCase(), type: "ethereum" }],
    });

    const viaWeb3auth = await server
      .client()
      .wallet.web3authSignIn.mutate({ idToken, mode: "token" });

    expect(viaWeb3auth.user.id).toBe(viaSiwe.user.id);
    expect(viaWeb3auth.tokens?.accessToken).toBeString();
  });

  test("Web3Auth tokens signed by another key, for another audience, expired or without a wallet are refused", async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const claims = { wallets: [{ address: wallet.address, type: "ethereum" }] };
    const otherKey = (await generateKeyPair("ES256")).privateKey;
    const cases: Array<[string, AppErrorCode]> = [
      [await web3authToken(otherKey, claims), "ID_TOKEN_INVALID"],
      [
        await web3authToken(jwks.privateKey, claims, { audience: "someone-else" }),
        "ID_TOKEN_INVALID",
      ],
      [
        await web3authToken(jwks.privateKey, claims, {
          expiresAt: Math.floor(Date.now() / 1000) - 60,
        }),
        "ID_TOKEN_INVALID",
      ],
      [await web3authToken(jwks.privateKey, { wallets: [] }), "WALLET_CLAIM_MISSING"],
    ];

    for (const [idToken, appCode] of cases) {
      await expectError(server.client().wallet.web3authSignIn.mutate({ idToken }), { appCode });
    }
  });
});
