/**
 * Runs sipPeer.ts in a namespace of the test network: long-running peers (registrar, OPTIONS
 * responder, callee, registered phone) and one-shot requests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PROJECT_DIR } from "./environment";
import type { OnTestNetwork, Peer } from "./namespaces";
import { stopProcessGroup } from "./exec";
import { waitFor } from "./waitFor";
import type { LoggedRequest, LoggedResponse, OneShot, PeerConfig } from "./sipPeer";

const TSX = join(PROJECT_DIR, "node_modules", ".bin", "tsx");
const PEER_SCRIPT = join(__dirname, "sipPeer.ts");

type Line = LoggedRequest | LoggedResponse | { event: "ready" | "error"; message?: string };

export interface RunningPeer {
  readonly lines: Line[];
  requests(method?: string): LoggedRequest[];
  /** Resolves with the first logged request `accept` takes. */
  waitForRequest(what: string, accept: (r: LoggedRequest) => boolean, timeoutMs?: number): Promise<LoggedRequest>;
  stop(): void;
}

function spawnPeer(
  stack: OnTestNetwork,
  peer: Peer,
  config: PeerConfig,
): { child: ChildProcess; lines: Line[]; stderr: () => string } {
  // Its own process group, so stop() ends tsx and the node process it starts.
  const child = spawn("ip", ["netns", "exec", stack.netns[peer], TSX, PEER_SCRIPT, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: Line[] = [];
  let stderr = "";
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => {
    if (line.trim()) lines.push(JSON.parse(line) as Line);
  });
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  return { child, lines, stderr: () => stderr };
}

/** Starts a long-running peer and waits until it listens (and, with `register`, has registered). */
export async function startPeer(stack: OnTestNetwork, peer: Peer, config: PeerConfig): Promise<RunningPeer> {
  const { child, lines, stderr } = spawnPeer(stack, peer, config);
  const stop = () => stopProcessGroup(child);
  try {
    // A peer that exits (its REGISTER unanswered or refused) fails at once, not after the wait:
    // a caller that retries (a takeover measured by when a phone can register) measures the peer,
    // not this wait.
    const outcome = await waitFor(`SIP peer in ${peer} to start`, 30_000, () =>
      child.exitCode !== null ? "exited" : lines.some((l) => l.event === "ready") ? "ready" : undefined,
    );
    if (outcome === "exited") throw new Error(`peer exited ${child.exitCode}: ${JSON.stringify(lines)} ${stderr()}`);
  } catch (error) {
    stop();
    throw error;
  }
  const requests = (method?: string) =>
    lines.filter((l): l is LoggedRequest => l.event === "request" && (!method || l.method === method));
  return {
    lines,
    requests,
    waitForRequest: (what, accept, timeoutMs = 30_000) => waitFor(what, timeoutMs, async () => requests().find(accept)),
    stop,
  };
}

/** Sends one request from `peer` (bound to `bind`) and resolves with the final response. */
export async function sendRequest(
  stack: OnTestNetwork,
  peer: Peer,
  bind: string,
  request: OneShot,
): Promise<LoggedResponse> {
  const { child, lines, stderr } = spawnPeer(stack, peer, { bind, port: 0, request });
  await new Promise<void>((resolve) => child.on("close", () => resolve()));
  const response = lines.find((l): l is LoggedResponse => l.event === "response");
  if (!response)
    throw new Error(`no response to ${request.method} ${request.uri}: ${JSON.stringify(lines)} ${stderr()}`);
  return response;
}

/** A From/To/Contact display name as a SIP parser reads it: the quoted-string unescaped. */
export function displayName(headerValue: string): string | undefined {
  const quoted = /^\s*"((?:[^"\\]|\\.)*)"/.exec(headerValue);
  if (quoted) return quoted[1].replace(/\\(.)/g, "$1");
  const bare = /^\s*([^<]+?)\s*</.exec(headerValue);
  return bare?.[1];
}

/** The user part of the first SIP URI in a header value. */
export function uriUser(headerValue: string): string | undefined {
  return /sips?:([^@;>]+)@/.exec(headerValue)?.[1];
}
