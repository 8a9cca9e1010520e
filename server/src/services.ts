import type { Database } from "@viper/db/client";
import type { Logger } from "@viper/shared/logger";
import { ServerMetrics } from "@viper/shared/metrics/server-metrics";
import type { KeyValueStore } from "@viper/shared/store";
import { AccessTokens } from "./auth/access-tokens.ts";
import { AccessTokenDenyList } from "./auth/deny-list.ts";
import { EmailVerification } from "./auth/email-verification.ts";
import { GoogleSignIn } from "./auth/google.ts";
import { createDashboardLucia, type DashboardLucia } from "./auth/lucia.ts";
import { PasswordHasher } from "./auth/passwords.ts";
import { RefreshTokens } from "./auth/refresh-tokens.ts";
import { SignInLimiter } from "./auth/sign-in-limiter.ts";
import { SiweVerifier } from "./auth/siwe.ts";
import { JwksWeb3AuthVerifier, type Web3AuthVerifier } from "./auth/web3auth.ts";
import { type ResolvedSettings, resolveSettings, type ServerConfig } from "./config.ts";
import { LogMailSender, type MailSender, OutboxMailSender } from "./mail/mail-sender.ts";

/** What the server is built from; tests pass their own database, store and logger. */
export interface ServerDeps {
  config: ServerConfig;
  db: Database;
  store: KeyValueStore;
  logger: Logger;
  /** Replaces the mail transport chosen by MAIL_TRANSPORT. */
  mail?: MailSender;
  /** Replaces the JWKS-based Web3Auth check (null turns Web3Auth off). */
  web3auth?: Web3AuthVerifier | null;
  /** Where the server's metrics go; a registry of its own when omitted. */
  metrics?: ServerMetrics;
}

/** The long-lived collaborators every request shares, built once per server. */
export interface Services {
  config: ServerConfig;
  settings: ResolvedSettings;
  db: Database;
  store: KeyValueStore;
  logger: Logger;
  lucia: DashboardLucia;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  denyList: AccessTokenDenyList;
  passwords: PasswordHasher;
  signInLimiter: SignInLimiter;
  emailVerification: EmailVerification;
  mail: MailSender;
  /** Null until GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are set. */
  google: GoogleSignIn | null;
  siwe: SiweVerifier;
  /** Null until WEB3AUTH_CLIENT_ID is set. */
  web3auth: Web3AuthVerifier | null;
  /** Served at /metrics. */
  metrics: ServerMetrics;
}

/** Builds the services from config; throws when a key or URL in config is unusable. */
export async function createServices(deps: ServerDeps): Promise<Services> {
  const { config, db, store, logger } = deps;
  const settings = resolveSettings(config);
  if (!config.JWT_SIGNING_KEY) {
    logger.warn("no JWT_SIGNING_KEY: access tokens use a key that dies with this process");
  }
  const mail =
    deps.mail ??
    (settings.mailTransport === "log" ? new LogMailSender(logger) : new OutboxMailSender(db));
  return {
    config,
    settings,
    db,
    store,
    logger,
    lucia: createDashboardLucia(db, {
      cookieName: config.COOKIE_NAME,
      secure: settings.cookieSecure,
      domain: config.COOKIE_DOMAIN,
      sessionTtlSeconds: config.SESSION_TTL_SECONDS,
    }),
    accessTokens: await AccessTokens.create({
      signingKey: config.JWT_SIGNING_KEY,
      verificationKeys: config.JWT_VERIFICATION_KEYS,
      issuer: settings.jwtIssuer,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.JWT_ACCESS_TTL_SECONDS,
    }),
    refreshTokens: new RefreshTokens(db, logger, {
      ttlSeconds: config.JWT_REFRESH_TTL_SECONDS,
      reuseGraceSeconds: config.JWT_REFRESH_REUSE_GRACE_SECONDS,
      sessionTtlSeconds: config.SESSION_TTL_SECONDS,
    }),
    denyList: new AccessTokenDenyList(store),
    passwords: new PasswordHasher({
      memoryCostKib: config.PASSWORD_HASH_MEMORY_KIB,
      timeCost: config.PASSWORD_HASH_TIME_COST,
    }),
    signInLimiter: new SignInLimiter(store, {
      maxFailuresPerAccount: config.SIGN_IN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerIp: config.SIGN_IN_MAX_FAILURES_PER_IP,
      failureWindowMs: config.SIGN_IN_FAILURE_WINDOW_SECONDS * 1000,
      lockMs: config.SIGN_IN_LOCK_SECONDS * 1000,
    }),
    emailVerification: new EmailVerification(db, mail, {
      ttlSeconds: config.EMAIL_VERIFICATION_TTL_SECONDS,
      verifyPageUrl: `${settings.dashboardUrl}/verify-email`,
    }),
    mail,
    google: createGoogle(config, settings, store),
    siwe: new SiweVerifier(store, {
      domain: settings.siweDomain,
      uriOrigin: new URL(settings.dashboardUrl).origin,
      chainIds: config.SIWE_CHAIN_IDS,
      nonceTtlSeconds: config.SIWE_NONCE_TTL_SECONDS,
    }),
    web3auth: deps.web3auth === undefined ? createWeb3Auth(config) : deps.web3auth,
    metrics: deps.metrics ?? new ServerMetrics(),
  };
}

function createGoogle(config: ServerConfig, settings: ResolvedSettings, store: KeyValueStore) {
  if (!config.GOOGLE_CLIENT_ID || !config.GOOGLE_CLIENT_SECRET) {
    return null;
  }
  return new GoogleSignIn(store, {
    clientId: config.GOOGLE_CLIENT_ID,
    clientSecret: config.GOOGLE_CLIENT_SECRET,
    redirectUri: settings.googleRedirectUri,
    authorizationEndpoint: config.OIDC_AUTHORIZATION_ENDPOINT,
    tokenEndpoint: config.OIDC_TOKEN_ENDPOINT,
    jwksUrl: config.OIDC_JWKS_URL,
    issuers: config.OIDC_ISSUERS,
    stateTtlSeconds: config.OIDC_STATE_TTL_SECONDS,
  });
}

function createWeb3Auth(config: ServerConfig): Web3AuthVerifier | null {
  if (!config.WEB3AUTH_CLIENT_ID) {
    return null;
  }
  return new JwksWeb3AuthVerifier({
    jwksUrl: config.WEB3AUTH_JWKS_URL,
    clientId: config.WEB3AUTH_CLIENT_ID,
    issuers: config.WEB3AUTH_ISSUERS,
  });
}
