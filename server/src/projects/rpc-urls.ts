import type { Chain } from "@viper/db/schema/chains";

/** What stands for the key in URLs built without a chosen key. */
export const keyPlaceholder = "{API_KEY}";

/** The relay endpoints of one chain of a project. */
export interface RpcEndpoint {
  chainId: string;
  slug: string;
  name: string;
  /** POST JSON-RPC here. */
  http: string;
  /** Null when the chain does not support WebSocket subscriptions. */
  websocket: string | null;
  /** False when the chosen key's rules leave this chain out. */
  allowedForKey: boolean;
}

/**
 * Builds each chain's relay URLs (`<relay>/v1/<chain slug>/<key>`) from the relay's public base
 * URL. `keyPart` is the placeholder or a masked key, never a secret: the dashboard puts the real
 * key in only right after creating it.
 */
export function rpcEndpoints(
  relayPublicUrl: string,
  chains: Chain[],
  keyPart: string,
  keyChains: string[] | undefined,
): RpcEndpoint[] {
  const httpBase = relayPublicUrl.replace(/\/+$/, "");
  const wsBase = httpBase.replace(/^http/, "ws");
  return chains.map((chain) => {
    const path = `/v1/${encodeURIComponent(chain.slug)}/${keyPart}`;
    return {
      chainId: chain.id,
      slug: chain.slug,
      name: chain.name,
      http: `${httpBase}${path}`,
      // TODO: the relay serves HTTP only so far; these URLs work once it accepts WebSockets.
      websocket: chain.supportsWebsocket ? `${wsBase}${path}` : null,
      allowedForKey: !keyChains?.length || keyChains.includes(chain.id),
    };
  });
}
