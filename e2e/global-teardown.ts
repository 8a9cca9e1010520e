// Stops the product global-setup started, with everything in its process group.
export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.E2E_PRODUCT_PID);
  if (pid > 0) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
}
