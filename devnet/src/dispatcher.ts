import type { Server } from "bun";
import type { DevnetNetwork } from "./network.ts";
import { dispatchHandler, heightResponse, NodePath, notFound } from "./node-routes.ts";

/** The node portals ask for height and sessions; it serves no relays itself. */
export class Dispatcher {
  readonly url: string;
  readonly #server: Server<undefined>;

  constructor(network: DevnetNetwork, host: string, port = 0) {
    this.#server = Bun.serve({
      hostname: host,
      port,
      routes: {
        [NodePath.height]: { POST: () => heightResponse(network) },
        [NodePath.dispatch]: { POST: (request) => dispatchHandler(request, network) },
      },
      fetch: notFound,
    });
    this.url = `http://${host}:${this.#server.port}`;
  }

  async stop(): Promise<void> {
    await this.#server.stop(true);
  }
}
