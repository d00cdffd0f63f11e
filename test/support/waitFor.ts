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
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${typeof what === "function" ? what() : what}${failure}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Reads `read` every 20 ms until `accept` takes its value or `timeoutMs` passes, and returns the
 * last value either way: the caller asserts on it, so a failure shows what was there instead.
 */
export async function eventually<T>(
  read: () => T | Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}
