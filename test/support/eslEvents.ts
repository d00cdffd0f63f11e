/**
 * FreeSWITCH's events as the event socket sends them, recorded from inside the server's network
 * namespace by eslEventRecorder.ts: each event's text/event-plain body, verbatim.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ESL_PORT } from "../../sip/hostLayout";
import { PROJECT_DIR } from "./environment";
import { stopProcessGroup } from "./exec";
import { waitFor } from "./waitFor";

const TSX = join(PROJECT_DIR, "node_modules", ".bin", "tsx");
const RECORDER = join(__dirname, "eslEventRecorder.ts");

export interface EventRecording {
  /** The plain bodies received so far, in order. */
  readonly bodies: string[];
  stop(): void;
}

/** Subscribes to `events` (e.g. ["CUSTOM", "sofia::gateway_state"]) on the stack's ESL; resolves once subscribed. */
export async function recordEslEvents(
  stack: { readonly netns: { readonly server: string }; readonly secrets: { readonly eslPassword: string } },
  events: readonly string[],
): Promise<EventRecording> {
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      stack.netns.server,
      TSX,
      RECORDER,
      "127.0.0.1",
      String(ESL_PORT),
      stack.secrets.eslPassword,
      ...events,
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const bodies: string[] = [];
  let ready = false;
  let stderr = "";
  // One JSON value per line: an event's body, or {ready: true} once subscribed.
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (text) => {
    const line = JSON.parse(text) as string | { ready: true };
    if (typeof line === "string") bodies.push(line);
    else ready = true;
  });
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const stop = () => stopProcessGroup(child);
  try {
    await waitFor("the ESL event recorder to subscribe", 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`recorder exited ${child.exitCode}: ${stderr}`);
      return ready;
    });
  } catch (error) {
    stop();
    throw error;
  }
  return { bodies, stop };
}
