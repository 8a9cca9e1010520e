import { boolean, integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";

/** Relay chains the portal serves, named by Viper id and by a readable slug for RPC URLs. */
export const chains = pgTable("chains", {
  // The Viper relay chain id: hex of 1-4 bytes, e.g. "0021".
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  evmChainId: integer("evm_chain_id"),
  supportsWebsocket: boolean("supports_websocket").notNull().default(false),
  enabled: boolean("enabled").notNull().default(true),
  createdAt: createdAt(),
});

export type Chain = typeof chains.$inferSelect;
