import { baseConfigShape, loadConfig, optionalString, port } from "@viper/shared/config";
import { z } from "zod";

/** "true"/"false" (also 1/0, yes/no) from the environment; unset means the fallback. */
const flag = (fallback?: boolean) =>
  z.preprocess(
    (value) => (value === "" || value === undefined ? fallback : value),
    z
      .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"])])
      .transform((value) => value === true || value === "true" || value === "1" || value === "yes")
      .optional(),
  );

/** A comma-separated list of strings; blanks are dropped. */
const list = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    );

const seconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const count = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const httpUrl = () => z.url({ protocol: /^https?$/ });

const google = {
  authorize: "https://accounts.google.com/o/oauth2/v2/auth",
  token: "https://oauth2.googleapis.com/token",
  jwks: "https://www.googleapis.com/oauth2/v3/certs",
  // Google signs ID tokens with either spelling of its issuer.
  issuers: "https://accounts.google.com,accounts.google.com",
};

export const serverConfigShape = {
  ...baseConfigShape,
  SERVER_HOST: z.string().default("127.0.0.1"),
  SERVER_PORT: port(3000),
  /**
   * Where this server is reached from outside; the default JWT issuer. Unset: the address it
   * listens on (SERVER_HOST and the port bound), so a changed SERVER_PORT moves links with it.
   */
  PUBLIC_URL: optionalString().pipe(httpUrl().optional()),
  /** The dashboard's address: links in mail point here, and its origin may send cookies. */
  DASHBOARD_URL: optionalString().pipe(httpUrl().optional()),
  /** More browser origins allowed to call with the session cookie (comma list). */
  CORS_ORIGINS: list(""),
  /** Take the client IP from X-Forwarded-For (only behind a proxy that sets it). */
  TRUST_PROXY: flag(false),
  /** Larger request bodies are refused (413) before they are read. */
  MAX_REQUEST_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Calls one tRPC batch may hold; a client's httpBatchLink should set `maxItems` to this. */
  TRPC_MAX_BATCH_SIZE: count(50),
  /**
   * Where dApps reach the relay; the dashboard's RPC URLs start with it. Unset: a relay on this
   * machine's default port (`npm start` sets it to the relay it started).
   */
  RELAY_PUBLIC_URL: optionalString().pipe(httpUrl().optional()),

  /** The private JWK that signs access tokens (EdDSA/Ed25519 or HS256), with its `kid`. */
  JWT_SIGNING_KEY: optionalString(),
  /** JSON array of JWKs still accepted for verification while keys rotate. */
  JWT_VERIFICATION_KEYS: optionalString(),
  JWT_ISSUER: optionalString(),
  JWT_AUDIENCE: z.string().default("viper-portal"),
  JWT_ACCESS_TTL_SECONDS: seconds(15 * 60),
  JWT_REFRESH_TTL_SECONDS: seconds(30 * 24 * 3600),
  /** A used refresh token seen again within this window, before its successor was used, is a race. */
  JWT_REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).default(10),

  SESSION_TTL_SECONDS: seconds(30 * 24 * 3600),
  COOKIE_NAME: z.string().default("vp_session"),
  /** Secure cookies; defaults to on in production. */
  COOKIE_SECURE: flag(),
  COOKIE_DOMAIN: optionalString(),

  PASSWORD_HASH_MEMORY_KIB: z.coerce.number().int().min(1024).default(19456),
  PASSWORD_HASH_TIME_COST: z.coerce.number().int().min(1).default(2),
  SIGN_IN_MAX_FAILURES_PER_ACCOUNT: count(10),
  SIGN_IN_MAX_FAILURES_PER_IP: count(50),
  SIGN_IN_FAILURE_WINDOW_SECONDS: seconds(15 * 60),
  SIGN_IN_LOCK_SECONDS: seconds(15 * 60),

  /** Registrations (each sends a mail) one IP may start per hour. */
  REGISTRATIONS_PER_IP_PER_HOUR: count(20),
  EMAIL_VERIFICATION_TTL_SECONDS: seconds(24 * 3600),
  /** log: mail goes to the log (development); outbox: mail is queued in mail_outbox. */
  MAIL_TRANSPORT: z.enum(["log", "outbox"]).optional(),

  GOOGLE_CLIENT_ID: optionalString(),
  GOOGLE_CLIENT_SECRET: optionalString(),
  /** The dashboard page Google sends the user back to; defaults to DASHBOARD_URL/auth/google/callback. */
  GOOGLE_REDIRECT_URI: optionalString().pipe(httpUrl().optional()),
  OIDC_AUTHORIZATION_ENDPOINT: httpUrl().default(google.authorize),
  OIDC_TOKEN_ENDPOINT: httpUrl().default(google.token),
  OIDC_JWKS_URL: httpUrl().default(google.jwks),
  OIDC_ISSUERS: list(google.issuers),
  OIDC_STATE_TTL_SECONDS: seconds(10 * 60),

  /** Web3Auth sign-in is off until its client id (the ID token's audience) is set. */
  WEB3AUTH_CLIENT_ID: optionalString(),
  WEB3AUTH_JWKS_URL: httpUrl().default("https://api-auth.web3auth.io/jwks"),
  WEB3AUTH_ISSUERS: list("https://api-auth.web3auth.io"),

  /** The host a SIWE message must name; defaults to the host of DASHBOARD_URL. */
  SIWE_DOMAIN: optionalString(),
  SIWE_CHAIN_IDS: list("1").pipe(z.array(z.string().regex(/^\d+$/).transform(Number)).min(1)),
  SIWE_NONCE_TTL_SECONDS: seconds(5 * 60),
};

export const serverConfigSchema = z.object(serverConfigShape).superRefine((config, ctx) => {
  if (config.NODE_ENV !== "production") {
    return;
  }
  if (!config.JWT_SIGNING_KEY) {
    ctx.addIssue({ code: "custom", path: ["JWT_SIGNING_KEY"], message: "required in production" });
  }
  if (!config.PUBLIC_URL?.startsWith("https://")) {
    ctx.addIssue({ code: "custom", path: ["PUBLIC_URL"], message: "must be https in production" });
  }
  if (config.MAIL_TRANSPORT === "log") {
    ctx.addIssue({ code: "custom", path: ["MAIL_TRANSPORT"], message: "log would leak links" });
  }
});

export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Reads and validates the server's settings from the environment (and CONFIG_FILE). */
export function loadServerConfig(
  env: Record<string, string | undefined> = process.env,
): ServerConfig {
  return loadConfig(serverConfigSchema, env);
}

/** Where a server listens when its PUBLIC_URL is unset and nobody told it the port it bound. */
function listenUrlOf(config: ServerConfig): string {
  return serverUrl(config.SERVER_HOST, config.SERVER_PORT);
}

/**
 * `http://host:port` for a listener; a wildcard host becomes 127.0.0.1 (the address a browser
 * on this machine uses) and an IPv6 address gets its brackets.
 */
export function serverUrl(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "::") {
    return `http://127.0.0.1:${port}`;
  }
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The relay's address when RELAY_PUBLIC_URL is unset: its default port on this machine. */
const defaultRelayPublicUrl = "http://127.0.0.1:8545";

/** Settings with their derived defaults filled in, so no caller repeats the fallbacks. */
export interface ResolvedSettings {
  /** PUBLIC_URL, or the address the server listens on; without a trailing slash. */
  publicUrl: string;
  /** RELAY_PUBLIC_URL, or the relay's default address on this machine. */
  relayPublicUrl: string;
  dashboardUrl: string;
  jwtIssuer: string;
  cookieSecure: boolean;
  siweDomain: string;
  mailTransport: "log" | "outbox";
  googleRedirectUri: string;
  /** Origins whose requests may carry the session cookie. */
  allowedOrigins: string[];
}

/** Fills in the defaults that depend on other settings. */
export function resolveSettings(config: ServerConfig): ResolvedSettings {
  const publicUrl = (config.PUBLIC_URL ?? listenUrlOf(config)).replace(/\/$/, "");
  const dashboardUrl = (config.DASHBOARD_URL ?? publicUrl).replace(/\/$/, "");
  const dashboardOrigin = new URL(dashboardUrl).origin;
  return {
    publicUrl,
    relayPublicUrl: config.RELAY_PUBLIC_URL ?? defaultRelayPublicUrl,
    dashboardUrl,
    jwtIssuer: config.JWT_ISSUER ?? new URL(publicUrl).origin,
    cookieSecure: config.COOKIE_SECURE ?? config.NODE_ENV === "production",
    siweDomain: config.SIWE_DOMAIN ?? new URL(dashboardUrl).host,
    mailTransport: config.MAIL_TRANSPORT ?? (config.NODE_ENV === "development" ? "log" : "outbox"),
    googleRedirectUri: config.GOOGLE_REDIRECT_URI ?? `${dashboardUrl}/auth/google/callback`,
    allowedOrigins: [
      ...new Set([dashboardOrigin, new URL(publicUrl).origin, ...config.CORS_ORIGINS]),
    ],
  };
}
