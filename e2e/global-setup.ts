import { startProduct } from "./product.ts";

// Starts the product once for the whole run; tests read its URLs from the environment, which
// Playwright hands from global setup to the test workers.
export default async function globalSetup(): Promise<void> {
  const product = await startProduct();
  process.env.E2E_RPC_URL = product.rpcUrl;
  process.env.E2E_SERVER_URL = product.serverUrl;
  process.env.E2E_PRODUCT_PID = String(product.process.pid);
}
