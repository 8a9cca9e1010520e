import { sessionHeaderSchema } from "@viper/shared/protocol";
import type { DevnetNetwork } from "./network.ts";
import { Refusal, RefusalCode, refusalResponse } from "./refusals.ts";

/** Paths every Viper node answers. */
export const NodePath = {
  height: "/v1/query/height",
  dispatch: "/v1/client/dispatch",
  relay: "/v1/client/relay",
} as const;

/** `POST /v1/query/height`: the shared chain height. */
export function heightResponse(network: DevnetNetwork): Response {
  return Response.json({ height: network.height });
}

async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch (cause) {
    throw new Refusal(RefusalCode.malformedSessionHeader, "session header is not valid JSON", {
      cause,
    });
  }
}

/**
 * `POST /v1/client/dispatch`: the session for the header's requestor, chain and zone at the
 * latest session height, whatever session height the header names.
 */
export async function dispatchHandler(request: Request, network: DevnetNetwork): Promise<Response> {
  try {
    const parsed = sessionHeaderSchema.safeParse(await readJson(request));
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join(".")}: ${issue.message}`,
      );
      throw new Refusal(
        RefusalCode.malformedSessionHeader,
        `invalid session header: ${problems.join("; ")}`,
      );
    }
    const header = parsed.data;
    if (header.num_servicers < 1) {
      throw new Refusal(RefusalCode.malformedSessionHeader, "num_servicers must be at least 1");
    }
    if (!network.chains.has(header.chain)) {
      throw new Refusal(RefusalCode.chainNotServed, `chain ${header.chain} is not served here`);
    }
    const session = network.currentSession({
      requestorPublicKey: header.requestor_public_key,
      chain: header.chain,
      zone: header.zone,
      numServicers: header.num_servicers,
    });
    return Response.json(session);
  } catch (error) {
    if (error instanceof Refusal) {
      return refusalResponse(error);
    }
    throw error;
  }
}

/** The 404 of a path no Viper node serves. */
export function notFound(request: Request): Response {
  const path = new URL(request.url).pathname;
  return Response.json(
    { error: { message: `no route for ${request.method} ${path}` } },
    { status: 404 },
  );
}
