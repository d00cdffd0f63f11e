/** Polling until something holds: for what a real FreeSWITCH, a container, a peer or a fake server does in its own time. */
import { inspect } from "node:util";

/**
 * Calls `attempt` every `everyMs` (250 ms) until it returns a value (not undefined, not false);
 * after `timeoutMs` fails naming `what` and the attempt's last error. `what` may be a function,
 * worded when the wait fails (say, with the log of what did not happen).
 */
export async function waitFor<T>(
  what: string | (() => string),
  timeoutMs: number,
  attempt: () => T | undefined | false | Promise<T | undefined | false>,
  { everyMs = 250 }: { everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const failure = last ? `: ${last instanceof Error ? String(last) : inspect(last)}` : "";
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${typeof what === "function" ? what() : what}${failure}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
