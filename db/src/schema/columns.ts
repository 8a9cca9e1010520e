import { timestamp, uuid } from "drizzle-orm/pg-core";

/** A random UUID primary key, made by the database so inserts need not supply one. */
export const id = () => uuid("id").primaryKey().defaultRandom();

/** Creation time, set by the database. */
export const createdAt = () =>
  timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

/** Last change time; writers set it on update. */
export const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

/** A nullable point in time, for expiries, revocations and soft deletes. */
export const moment = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
