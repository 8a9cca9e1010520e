/**
 * A loopback TCP proxy a test can cut: every connection through it drops and new ones are hung
 * up at once until it is restored. It cuts one client off from a server that others still
 * reach, as a network fault between one relay and Redis would.
 */
import type { Socket } from "bun";

export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones until `restore`. */
  cut(): void;
  restore(): void;
  close(): void;
}

interface Link {
  upstream: Socket<undefined> | null;
  // Bytes from the client that arrive before the upstream connection is open.
  pending: Uint8Array[];
  closed: boolean;
}

/**
 * Forwards 127.0.0.1:<port> to 127.0.0.1:<targetPort>. Writes are not paced (no backpressure):
 * fine for the few small commands a test sends.
 */
export function startTcpProxy(targetPort: number): TcpProxy {
  let isCut = false;
  const clients = new Set<Socket<Link>>();

  const server = Bun.listen<Link>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = { upstream: null, pending: [], closed: false };
        if (isCut) {
          client.end();
          return;
        }
        clients.add(client);
        void connectUpstream(client, targetPort);
      },
      data(client, chunk) {
        const { upstream, pending } = client.data;
        if (upstream) {
          upstream.write(chunk);
        } else {
          pending.push(new Uint8Array(chunk));
        }
      },
      close(client) {
        clients.delete(client);
        client.data.closed = true;
        client.data.upstream?.end();
      },
      error(client) {
        client.end();
      },
    },
  });

  return {
    port: server.port,
    cut() {
      isCut = true;
      for (const client of clients) {
        client.data.upstream?.end();
        client.end();
      }
      clients.clear();
    },
    restore() {
      isCut = false;
    },
    close() {
      server.stop(true);
    },
  };
}

async function connectUpstream(client: Socket<Link>, targetPort: number): Promise<void> {
  try {
    const upstream = await Bun.connect({
      hostname: "127.0.0.1",
      port: targetPort,
      socket: {
        data(_socket, chunk) {
          client.write(chunk);
        },
        close() {
          client.end();
        },
        error() {
          client.end();
        },
      },
    });
    if (client.data.closed) {
      upstream.end();
      return;
    }
    client.data.upstream = upstream;
    for (const chunk of client.data.pending.splice(0)) {
      upstream.write(chunk);
    }
  } catch {
    client.end();
  }
}
