import { pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { chains } from "./chains.ts";
import { createdAt } from "./columns.ts";
import { projects } from "./projects.ts";

/** The chains a project chose; the relay serves a project only on these. */
export const projectChains = pgTable(
  "project_chains",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    chainId: text("chain_id")
      .notNull()
      .references(() => chains.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.chainId] })],
);
