import type { Hex } from "viem";
import { z } from "zod";
import { resolveExternalAccount } from "../auth/accounts.ts";
import { signInModeSchema, startSession } from "../auth/sessions.ts";
import { AppError } from "../errors.ts";
import { authedProcedure, publicProcedure, router } from "../trpc.ts";

const siweInput = z.object({
  message: z.string().min(1).max(4000),
  signature: z
    .string()
    .max(1000)
    .regex(/^0x[0-9a-fA-F]+$/, "Expected a hex signature.")
    .transform((signature) => signature as Hex),
});

/** Sign-in with Ethereum (SIWE) and with Web3Auth ID tokens; a wallet is an identity. */
export const walletRouter = router({
  /** A fresh single-use nonce and the domain, URI and chains a message must name. */
  siweChallenge: publicProcedure.mutation(({ ctx }) => ctx.services.siwe.challenge()),

  /** Signs in (or creates an account) with a signed SIWE message. */
  siweSignIn: publicProcedure
    .input(siweInput.extend({ mode: signInModeSchema }))
    .mutation(async ({ ctx, input }) => {
      const address = await ctx.services.siwe.verify(input.message, input.signature);
      const userId = await resolveExternalAccount(ctx.db, {
        provider: "wallet",
        subject: address,
        sameSubjectAs: ["web3auth"],
      });
      return startSession(ctx, userId, input.mode, "wallet");
    }),

  /** Adds the wallet that signed the message to the signed-in account. */
  siweLink: authedProcedure.input(siweInput).mutation(async ({ ctx, input }) => {
    const address = await ctx.services.siwe.verify(input.message, input.signature);
    await resolveExternalAccount(
      ctx.db,
      { provider: "wallet", subject: address, sameSubjectAs: ["web3auth"] },
      ctx.user.id,
    );
    ctx.logger.info("wallet linked");
    return { address };
  }),

  /** Signs in (or creates an account) with a Web3Auth ID token; its wallet is the identity. */
  web3authSignIn: publicProcedure
    .input(z.object({ idToken: z.string().min(1).max(8000), mode: signInModeSchema }))
    .mutation(async ({ ctx, input }) => {
      if (!ctx.services.web3auth) {
        throw new AppError("PROVIDER_DISABLED");
      }
      const identity = await ctx.services.web3auth.verify(input.idToken);
      const userId = await resolveExternalAccount(ctx.db, {
        provider: "web3auth",
        subject: identity.address,
        sameSubjectAs: ["wallet"],
        name: identity.name,
      });
      return startSession(ctx, userId, input.mode, "web3auth");
    }),
});
