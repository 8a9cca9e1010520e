import type { Database } from "@viper/db/client";
import { authSessions } from "@viper/db/schema/auth-sessions";
import { type IdentityProvider, identities } from "@viper/db/schema/identities";
import { type User, users } from "@viper/db/schema/users";
import { and, eq, inArray } from "drizzle-orm";
import { AppError } from "../errors.ts";

type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
type Executor = Database | Transaction;

/** True for a unique-constraint violation from either driver (drizzle wraps it in `cause`). */
export function isUniqueViolation(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ((current as { code?: unknown }).code === "23505") {
      return true;
    }
  }
  return false;
}

/**
 * Creates an account with a password identity; null when the email already has an account
 * (the caller answers the same either way, so registration does not reveal known addresses).
 */
export async function createPasswordAccount(
  db: Database,
  input: { email: string; passwordHash: string; name: string | null },
): Promise<{ userId: string } | null> {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({ email: input.email, name: input.name })
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id });
    if (!user) {
      return null;
    }
    await tx.insert(identities).values({
      userId: user.id,
      provider: "password",
      subject: input.email,
      secretHash: input.passwordHash,
    });
    return { userId: user.id };
  });
}

/** The account with this email and its password hash (null when it has no password). */
export async function findPasswordAccount(db: Database, email: string) {
  const [row] = await db
    .select({ user: users, secretHash: identities.secretHash })
    .from(users)
    .leftJoin(identities, and(eq(identities.userId, users.id), eq(identities.provider, "password")))
    .where(eq(users.email, email));
  return row ?? null;
}

/** The password hash of a user, or null when the account has no password. */
export async function findPasswordHash(db: Executor, userId: string): Promise<string | null> {
  const [row] = await db
    .select({ secretHash: identities.secretHash })
    .from(identities)
    .where(and(eq(identities.userId, userId), eq(identities.provider, "password")));
  return row?.secretHash ?? null;
}

export async function findUser(db: Executor, userId: string): Promise<User | null> {
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  return user ?? null;
}

/** What a provider vouches for after it verified the person. */
export interface ExternalIdentity {
  provider: Exclude<IdentityProvider, "password">;
  subject: string;
  /** Other providers whose identity with the same subject is the same person (one wallet). */
  sameSubjectAs?: Exclude<IdentityProvider, "password">[];
  /** An email the provider has verified; absent when it has not. */
  verifiedEmail?: string | undefined;
  name?: string | undefined;
  avatarUrl?: string | undefined;
}

/**
 * Finds or creates the account an external identity signs in to. With `linkToUserId` the
 * identity is added to that (signed-in) account instead. Without it, an account with the same
 * verified email gets the identity linked. Throws IDENTITY_IN_USE when the identity belongs to
 * another account than the one asking to link it.
 */
export async function resolveExternalAccount(
  db: Database,
  identity: ExternalIdentity,
  linkToUserId?: string,
): Promise<string> {
  try {
    return await db.transaction((tx) => resolveInTransaction(tx, identity, linkToUserId));
  } catch (error) {
    // Two first sign-ins with one identity at once: the loser finds the winner's row.
    if (isUniqueViolation(error) && !linkToUserId) {
      return db.transaction((tx) => resolveInTransaction(tx, identity, linkToUserId));
    }
    throw error;
  }
}

async function resolveInTransaction(
  tx: Transaction,
  identity: ExternalIdentity,
  linkToUserId: string | undefined,
): Promise<string> {
  const providers = [identity.provider, ...(identity.sameSubjectAs ?? [])];
  const [existing] = await tx
    .select({ userId: identities.userId })
    .from(identities)
    .where(and(inArray(identities.provider, providers), eq(identities.subject, identity.subject)));

  if (linkToUserId) {
    if (existing && existing.userId !== linkToUserId) {
      throw new AppError("IDENTITY_IN_USE");
    }
    if (!existing) {
      await addIdentity(tx, linkToUserId, identity);
    }
    return linkToUserId;
  }
  if (existing) {
    return existing.userId;
  }
  if (identity.verifiedEmail) {
    const [owner] = await tx.select().from(users).where(eq(users.email, identity.verifiedEmail));
    if (owner) {
      await claimUnverifiedAccount(tx, owner);
      await addIdentity(tx, owner.id, identity);
      return owner.id;
    }
  }
  return createExternalAccount(tx, identity);
}

/**
 * Before linking a provider-verified email to an account whose address was never verified, the
 * account's password is removed and its sessions ended: whoever registered it may not have owned
 * the address, and must not keep a way into the real owner's account.
 */
async function claimUnverifiedAccount(tx: Transaction, owner: User): Promise<void> {
  if (owner.emailVerifiedAt) {
    return;
  }
  await tx
    .delete(identities)
    .where(and(eq(identities.userId, owner.id), eq(identities.provider, "password")));
  await tx.delete(authSessions).where(eq(authSessions.userId, owner.id));
  await tx
    .update(users)
    .set({ emailVerifiedAt: new Date(), updatedAt: new Date() })
    .where(eq(users.id, owner.id));
}

async function createExternalAccount(tx: Transaction, identity: ExternalIdentity): Promise<string> {
  const [user] = await tx
    .insert(users)
    .values({
      email: identity.verifiedEmail ?? null,
      emailVerifiedAt: identity.verifiedEmail ? new Date() : null,
      name: identity.name ?? null,
      avatarUrl: identity.avatarUrl ?? null,
    })
    .returning({ id: users.id });
  if (!user) {
    throw new Error("user insert returned no row");
  }
  await addIdentity(tx, user.id, identity);
  return user.id;
}

async function addIdentity(tx: Transaction, userId: string, identity: ExternalIdentity) {
  await tx
    .insert(identities)
    .values({ userId, provider: identity.provider, subject: identity.subject });
}
