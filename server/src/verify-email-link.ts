import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { createContext } from "./context.ts";
import { describeError } from "./errors.ts";
import { errorResponse } from "./request-guards.ts";
import { appRouter } from "./router.ts";
import type { Services } from "./services.ts";
import { createCallerFactory } from "./trpc.ts";

const createCaller = createCallerFactory(appRouter);

/**
 * GET /verify-email?token=…, where verification mails link while no dashboard is configured
 * (DASHBOARD_URL unset: links point at this server, as in development). It calls
 * auth.verifyEmail, so it does what the dashboard's page would, and answers JSON: the verified
 * address, or the error in the API's usual shape (VERIFICATION_TOKEN_INVALID, EMAIL_TAKEN).
 */
export async function verifyEmailByLink(
  services: Services,
  request: Request,
  facts: { requestId: string; ip: string | null },
): Promise<Response> {
  const token = new URL(request.url).searchParams.get("token") ?? "";
  const resHeaders = new Headers();
  const ctx = await createContext(services, { ...facts, req: request, resHeaders });
  try {
    const verified = await createCaller(ctx).auth.verifyEmail({ token });
    const message = "Email address verified. You can close this page and sign in.";
    return Response.json({ ...verified, message }, { headers: resHeaders });
  } catch (caught) {
    const error =
      caught instanceof TRPCError
        ? caught
        : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: caught });
    if (getHTTPStatusCodeFromError(error) >= 500) {
      ctx.logger.error({ path: "verify-email", err: describeError(error) }, "link failed");
    }
    return errorResponse(error, { requestId: facts.requestId, path: "auth.verifyEmail" });
  }
}
