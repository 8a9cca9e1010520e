import { z } from "zod";

// Go writes a nil slice as null; treat it as an empty list so callers only ever see arrays.
const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((value) => value ?? []);

/** The session header sent to /v1/client/dispatch and echoed back in its answer. */
export const sessionHeaderSchema = z.object({
  requestor_public_key: z.string(),
  chain: z.string(),
  zone: z.string(),
  num_servicers: z.number().int(),
  session_height: z.number().int(),
});
export type SessionHeader = z.infer<typeof sessionHeaderSchema>;

/** A staked node (servicer or fisherman); fields we do not use are kept as they came. */
export const nodeSchema = z.looseObject({
  address: z.string(),
  public_key: z.string(),
  jailed: z.boolean(),
  paused: z.boolean(),
  status: z.number().int(),
  chains: list(z.string()),
  service_url: z.string(),
  tokens: z.string().regex(/^[0-9]+$/, "tokens: a decimal string"),
  geo_zone: list(z.string()),
});
export type ViperNode = z.infer<typeof nodeSchema>;

/** The answer of /v1/client/dispatch. */
export const dispatchResponseSchema = z.object({
  session: z.object({
    header: sessionHeaderSchema,
    key: z.string(),
    servicers: list(nodeSchema),
    fishermen: list(nodeSchema),
  }),
  block_height: z.number().int(),
});
export type DispatchResponse = z.infer<typeof dispatchResponseSchema>;

/** The answer of /v1/client/relay on success. */
export const relayResponseSchema = z.object({
  signature: z.string(),
  response: z.string(),
});
export type RelayResponse = z.infer<typeof relayResponseSchema>;

/**
 * The HTTP 400 body of /v1/client/relay. A non-null `dispatch` means the session moved on and
 * replaces the caller's cached session.
 */
export const relayErrorSchema = z.object({
  error: z.looseObject({
    code: z.number().int().optional(),
    codespace: z.string().optional(),
    message: z.string(),
  }),
  dispatch: dispatchResponseSchema.nullish().transform((value) => value ?? null),
});
export type RelayErrorBody = z.infer<typeof relayErrorSchema>;
