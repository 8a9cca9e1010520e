import { index, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";
import { projects } from "./projects.ts";
import { users } from "./users.ts";

export const projectRoles = ["owner", "admin", "developer", "viewer"] as const;
export type ProjectRole = (typeof projectRoles)[number];

export const projectMembers = pgTable(
  "project_members",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: projectRoles }).notNull(),
    createdAt: createdAt(),
  },
  // "Projects I belong to" reads by user; the primary key serves reads by project.
  (t) => [
    primaryKey({ columns: [t.projectId, t.userId] }),
    index("project_members_user_idx").on(t.userId),
  ],
);

export type ProjectMember = typeof projectMembers.$inferSelect;
