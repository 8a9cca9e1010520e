import type { AuditAction } from "@viper/db/analytics/audit-log";
import { generateApiKey } from "@viper/shared/api-key";
import { z } from "zod";
import { auditProjectChange } from "../audit.ts";
import { projectProcedure } from "../project-access.ts";
import {
  assertNotRevoked,
  changedHashes,
  changeKey,
  createKey,
  type KeyPatch,
  listKeys,
  regeneratePatch,
  revokePatch,
} from "../projects/api-keys.ts";
import { resolveKeyChains } from "../projects/chains.ts";
import { publishKeyInvalidations } from "../projects/invalidation.ts";
import { toKeyView } from "../projects/key-views.ts";
import {
  futureDateSchema,
  keyRulesSchema,
  nameSchema,
  toStoredRules,
} from "../projects/validation.ts";
import { type AuthedContext, router, verifiedProcedure } from "../trpc.ts";

/** The longest an old secret may keep working after a regeneration: one day. */
const maxGraceSeconds = 24 * 3600;

const keyInput = z.object({ keyId: z.uuid() });

type KeyContext = AuthedContext & { project: { id: string } };

/** Key changes that go into the project's activity log. */
const auditedChanges: Record<string, AuditAction> = {
  "api key revoked": "key.revoked",
  "api key regenerated": "key.regenerated",
};

/** Applies a change to a key, tells the relays, and answers with the key as it is now. */
async function applyChange(ctx: KeyContext, keyId: string, patch: KeyPatch, event: string) {
  const { before, after } = await changeKey(ctx.db, ctx.project.id, keyId, patch);
  if (before !== after) {
    await publishKeyInvalidations(ctx, changedHashes(before, after), event);
    ctx.logger.info({ projectId: ctx.project.id, keyId }, event);
    const action = auditedChanges[event];
    if (action) {
      await auditProjectChange(ctx, action, { type: "api_key", id: keyId }, { name: after.name });
    }
  }
  return toKeyView(after);
}

/**
 * A project's API keys. Reading needs the viewer role; every change needs developer, and
 * creating one a verified email address too. Changes reach the relays through the store's
 * key-invalidation channel once they are committed.
 */
export const keysRouter = router({
  /** The project's keys, masked, newest first. */
  list: projectProcedure("viewer").query(({ ctx }) => listKeys(ctx.db, ctx.project.id)),

  /** Creates a key; `secret` is the key itself, shown this once and stored nowhere. */
  create: projectProcedure("developer", undefined, verifiedProcedure)
    .input(
      z.object({
        name: nameSchema,
        rules: keyRulesSchema.default({}),
        expiresAt: futureDateSchema.nullable().default(null),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const chains = await resolveKeyChains(ctx.db, ctx.project.id, input.rules.allowedChains);

      const created = await createKey(ctx.db, {
        projectId: ctx.project.id,
        userId: ctx.user.id,
        name: input.name,
        rules: toStoredRules(input.rules, chains),
        expiresAt: input.expiresAt,
      });

      // No invalidation: no relay can have cached a hash that did not exist until now.
      ctx.logger.info({ projectId: ctx.project.id, keyId: created.key.id }, "api key created");
      const key = { type: "api_key", id: created.key.id };
      await auditProjectChange(ctx, "key.created", key, { name: input.name });
      return created;
    }),

  rename: projectProcedure("developer")
    .input(keyInput.extend({ name: nameSchema }))
    .mutation(async ({ ctx, input }) => {
      const { after } = await changeKey(ctx.db, ctx.project.id, input.keyId, () => ({
        name: input.name,
      }));
      return toKeyView(after);
    }),

  /** Revokes a key at once, with any old secret still in its grace period. */
  revoke: projectProcedure("developer")
    .input(keyInput)
    .mutation(({ ctx, input }) => applyChange(ctx, input.keyId, revokePatch, "api key revoked")),

  /**
   * Gives the key a new secret, returned this once. The old secret keeps working for
   * `graceSeconds` (0 to 86400) so callers can switch without downtime; 0 stops it at once.
   */
  regenerate: projectProcedure("developer")
    .input(keyInput.extend({ graceSeconds: z.number().int().min(0).max(maxGraceSeconds) }))
    .mutation(async ({ ctx, input }) => {
      const generated = generateApiKey();
      const patch = regeneratePatch(generated, input.graceSeconds);
      const key = await applyChange(ctx, input.keyId, patch, "api key regenerated");
      return { key, secret: generated.key };
    }),

  /** Replaces the key's rules; lists left out or empty mean "no restriction". */
  updateRules: projectProcedure("developer")
    .input(keyInput.extend({ rules: keyRulesSchema }))
    .mutation(async ({ ctx, input }) => {
      const chains = await resolveKeyChains(ctx.db, ctx.project.id, input.rules.allowedChains);
      const rules = toStoredRules(input.rules, chains);
      const patch: KeyPatch = (key) => {
        assertNotRevoked(key);
        return { rules };
      };
      return applyChange(ctx, input.keyId, patch, "api key rules changed");
    }),

  /** Sets when the key stops working (a future time), or null for never. */
  setExpiry: projectProcedure("developer")
    .input(keyInput.extend({ expiresAt: futureDateSchema.nullable() }))
    .mutation(({ ctx, input }) => {
      const patch: KeyPatch = (key) => {
        assertNotRevoked(key);
        return { expiresAt: input.expiresAt };
      };
      return applyChange(ctx, input.keyId, patch, "api key expiry changed");
    }),
});
