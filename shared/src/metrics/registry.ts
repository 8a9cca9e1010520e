import { collectDefaultMetrics, Registry } from "prom-client";

/** The content type of the Prometheus text format prom-client writes. */
export const metricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/**
 * One registry per service instance (tests build several apps in one process, so nothing goes
 * to prom-client's global registry). Every series carries `service`; process and runtime
 * metrics (CPU, memory, event loop lag) come with it.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: "viper_" });
  // Gauges whose names end in _total, which Prometheus reserves for counters (promtool flags
  // them); they add little next to the event loop lag and memory series.
  for (const name of ["active_handles_total", "active_requests_total", "active_resources_total"]) {
    registry.removeSingleMetric(`viper_nodejs_${name}`);
  }
  return registry;
}

/** A `/metrics` answer in the Prometheus text format. */
export async function metricsResponse(registry: Registry): Promise<Response> {
  return new Response(await registry.metrics(), {
    status: 200,
    headers: { "content-type": metricsContentType, "cache-control": "no-store" },
  });
}
