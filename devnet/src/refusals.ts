import type { DispatchResponse } from "@viper/shared/protocol";

/** The codespace every devnet refusal carries in its error body. */
export const REFUSAL_CODESPACE = "viper";

/**
 * One code per reason a devnet servicer refuses a relay, so a test can tell them apart.
 * The numbers are the devnet's own; they are stable for as long as this file keeps them.
 */
export const RefusalCode = {
  malformedRelay: 1,
  requestHashMismatch: 2,
  invalidAatSignature: 3,
  requestorNotStaked: 4,
  invalidProofSignature: 5,
  sessionHeightMismatch: 6,
  blockHeightOutOfRange: 7,
  wrongServicer: 8,
  chainNotServed: 9,
  servicerNotInSession: 10,
  entropyReused: 11,
  upstreamFailed: 12,
  malformedSessionHeader: 13,
} as const;

export type RefusalCode = (typeof RefusalCode)[keyof typeof RefusalCode];

/** The HTTP 400 body of a refused relay or dispatch. */
export interface RefusalBody {
  error: { code: RefusalCode; codespace: string; message: string };
  dispatch: DispatchResponse | null;
}

/** A relay or dispatch the devnet refuses; `dispatch` is set when the session has moved on. */
export class Refusal extends Error {
  override name = "Refusal";
  readonly code: RefusalCode;
  readonly dispatch: DispatchResponse | null;

  constructor(
    code: RefusalCode,
    message: string,
    options: { dispatch?: DispatchResponse; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.dispatch = options.dispatch ?? null;
  }

  toBody(): RefusalBody {
    return {
      error: { code: this.code, codespace: REFUSAL_CODESPACE, message: this.message },
      dispatch: this.dispatch,
    };
  }
}

/** Answers a refusal the way a Viper node does: HTTP 400 with the error and maybe a session. */
export function refusalResponse(refusal: Refusal): Response {
  return Response.json(refusal.toBody(), { status: 400 });
}
