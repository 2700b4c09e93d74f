/** Polls a condition until it holds or the timeout passes; for in-process state with no event to wait on. */
import { setTimeout as delay } from "node:timers/promises";

export async function waitUntil(
  condition: () => boolean,
  description: string,
  { timeoutMs = 10_000, intervalMs = 10 }: { readonly timeoutMs?: number; readonly intervalMs?: number } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await delay(intervalMs);
  }
}
