import { defineConfig } from "drizzle-kit";

// `bun run db:generate` writes SQL migrations from the schema in db/src/schema.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/src/schema/index.ts",
  out: "./db/migrations",
});
