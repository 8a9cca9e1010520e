import { index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, moment } from "./columns.ts";
import { projectRoles } from "./project-members.ts";
import { projects } from "./projects.ts";
import { users } from "./users.ts";

/**
 * Invitations to join a project, sent by mail. The link's token is stored only as its SHA-256
 * hash; accepting needs a signed-in, verified account with the invited address.
 */
export const projectInvites = pgTable(
  "project_invites",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    // Normalized (trimmed, lower case), compared with users.email on acceptance.
    email: text("email").notNull(),
    // Never "owner": ownership moves only by transfer.
    role: text("role", { enum: projectRoles }).notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    invitedBy: uuid("invited_by").references(() => users.id, { onDelete: "set null" }),
    expiresAt: moment("expires_at").notNull(),
    acceptedAt: moment("accepted_at"),
    acceptedBy: uuid("accepted_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  // Admins list a project's open invites, and a new invite to an address replaces the open one.
  (t) => [index("project_invites_project_email_idx").on(t.projectId, t.email)],
);

export type ProjectInvite = typeof projectInvites.$inferSelect;
