/** Polling until something holds: for what a real FreeSWITCH, a container or a peer does in its own time. */
import { inspect } from "node:util";

/** Calls `attempt` every 250 ms until it returns a value (not undefined, not false); fails with its last error after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${last instanceof Error ? String(last) : inspect(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
