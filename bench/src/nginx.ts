import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchProcess, ProcessGroup } from "./processes.ts";
import { freePort, waitForHttp } from "./processes.ts";

/** A running nginx that proxies to the fixed upstream. */
export interface NginxProxy {
  url: string;
  process: BenchProcess;
}

/**
 * nginx set up the way a careful operator would put it in front of a JSON-RPC node: one worker
 * (the machine is small and so is our relay: one process each), HTTP/1.1 keep-alive to the
 * upstream, and a buffered access log, since our relay logs every request too.
 */
export function nginxConfig(dir: string, listenPort: number, upstreamUrl: string): string {
  const upstream = new URL(upstreamUrl);
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;

events {
  worker_connections 4096;
}

http {
  access_log ${dir}/access.log combined buffer=64k flush=1s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  upstream bench_upstream {
    server ${upstream.hostname}:${upstream.port};
    keepalive 128;
  }

  server {
    listen 127.0.0.1:${listenPort};
    keepalive_requests 1000000;

    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** Writes nginx's config into its own folder under `runDir` and starts it in the foreground. */
export async function startNginx(
  group: ProcessGroup,
  nginxPath: string,
  runDir: string,
  upstreamUrl: string,
): Promise<NginxProxy> {
  const dir = join(runDir, "nginx");
  mkdirSync(dir, { recursive: true });
  // Run as root, nginx's workers drop to an unprivileged user that must reach its temp folders.
  chmodSync(runDir, 0o755);
  chmodSync(dir, 0o755);
  const port = freePort();
  const configPath = join(dir, "nginx.conf");
  writeFileSync(configPath, nginxConfig(dir, port, upstreamUrl));
  const child = group.spawn({
    name: "nginx",
    cmd: [nginxPath, "-p", dir, "-c", configPath],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    logDir: runDir,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(child, url, 10_000);
  return { url, process: child };
}
