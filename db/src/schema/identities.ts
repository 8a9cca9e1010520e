import { pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns.ts";
import { users } from "./users.ts";

export const identityProviders = ["password", "google", "wallet", "web3auth"] as const;
export type IdentityProvider = (typeof identityProviders)[number];

/** One way of signing in to one account; an account may hold several. */
export const identities = pgTable(
  "identities",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    provider: text("provider", { enum: identityProviders }).notNull(),
    // Who the provider says this is: the email for passwords, Google's sub, a checksummed address.
    subject: text("subject").notNull(),
    // argon2id hash for password identities; null for the others.
    secretHash: text("secret_hash"),
    createdAt: createdAt(),
  },
  // Sign-in looks an identity up by provider and subject, and one subject maps to one account.
  (t) => [uniqueIndex("identities_provider_subject_idx").on(t.provider, t.subject)],
);

export type Identity = typeof identities.$inferSelect;
