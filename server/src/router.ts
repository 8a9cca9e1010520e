import { sql } from "drizzle-orm";
import { adminRouter } from "./routers/admin.ts";
import { auditRouter } from "./routers/audit.ts";
import { authRouter } from "./routers/auth.ts";
import { googleRouter } from "./routers/google.ts";
import { keysRouter } from "./routers/keys.ts";
import { membersRouter } from "./routers/members.ts";
import { profileRouter } from "./routers/profile.ts";
import { projectsRouter } from "./routers/projects.ts";
import { usageRouter } from "./routers/usage.ts";
import { walletRouter } from "./routers/wallet.ts";
import { publicProcedure, router } from "./trpc.ts";

/**
 * The dashboard API. Each area is one router in server/src/routers/<area>.ts; to add one, write
 * it with the procedures from ./trpc.ts (or projectProcedure from ./project-access.ts) and add a
 * line here. The client type follows from `AppRouter`.
 */
export const appRouter = router({
  /** Whether the server and what it depends on answer. */
  health: publicProcedure.query(async ({ ctx }) => {
    const [database, store] = await Promise.all([
      ctx.db.execute(sql`select 1`).then(
        () => true,
        () => false,
      ),
      ctx.store.ping(),
    ]);
    return { status: database && store ? ("ok" as const) : ("degraded" as const), database, store };
  }),
  auth: authRouter,
  google: googleRouter,
  wallet: walletRouter,
  profile: profileRouter,
  admin: adminRouter,
  projects: projectsRouter,
  members: membersRouter,
  keys: keysRouter,
  usage: usageRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
