/** sipp (Debian's sip-tester) in a namespace of the test network, and its scenarios (test/support/sipp/). */
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TEST_NETWORK, type OnTestNetwork, type Peer } from "./namespaces";

export interface SippResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs sipp (Debian's sip-tester) in a peer's namespace to the end; its exit code is 0 when every call succeeded. */
export async function sipp(
  stack: OnTestNetwork,
  peer: Peer,
  args: string[],
  timeoutMs = 60_000,
  cwd?: string,
): Promise<SippResult> {
  const process = startSipp(stack, peer, args, cwd);
  const timer = setTimeout(() => void process.stop(), timeoutMs);
  try {
    return await process.done;
  } finally {
    clearTimeout(timer);
  }
}

export interface SippProcess {
  /** Resolves when sipp exits by itself. */
  readonly done: Promise<SippResult>;
  /** Ends it (SIGTERM) and resolves with what it printed. */
  stop(): Promise<SippResult>;
}

/** Starts a long-running sipp (a UAS standing in for a carrier, say) in a peer's namespace. */
export function startSipp(stack: OnTestNetwork, peer: Peer, args: string[], cwd?: string): SippProcess {
  // cwd: where sipp writes its trace files (-trace_rtt, -trace_stat, ...).
  const child = spawn("ip", ["netns", "exec", stack.netns[peer], "sipp", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    cwd,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<SippResult>((resolvePromise) =>
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr })),
  );
  return {
    done,
    stop: async () => {
      child.kill("SIGTERM");
      return done;
    },
  };
}

/** Path of a sipp scenario shipped here (test/support/sipp/). */
export const scenario = (name: string) => join(__dirname, "sipp", name);

/**
 * The Plusnet stand-in on the carrier's IPv4, port 5060: it answers every call and every OPTIONS
 * ping (-aa) until stopped. `extra` adds to its arguments (e.g. its own RTP port and an echo).
 */
export function startAnsweringCarrier(stack: OnTestNetwork, extra: readonly string[] = []): SippProcess {
  const args = ["-sf", scenario("uas-answer.xml"), "-aa", "-i", TEST_NETWORK.plusnet.ipv4, "-p", "5060"];
  return startSipp(stack, "plusnet", [...args, ...extra, "-nostdin"]);
}

/**
 * The arguments of a call from extension 100 (the phone's IPv4, digest auth with its password) to
 * an outside number through the IPv4 twin on 5080, from `port`. Without `media`, signalling only:
 * the offered RTP port gets nothing and the answer is thrown away. Callers add the call's count,
 * rate, hold time and timeout.
 */
export function phoneCallArgs(
  stack: OnTestNetwork & { readonly extensionPasswords: Readonly<Record<string, string>> },
  port: number,
  media: { readonly rtpPort: number; readonly answerFile: string } = { rtpPort: 16000, answerFile: "/dev/null" },
): string[] {
  return [
    `${TEST_NETWORK.server.ipv4}:5080`,
    ...["-sf", scenario("uac-auth-call.xml"), "-i", TEST_NETWORK.phone.ipv4, "-p", String(port)],
    ...["-s", "+4930123456", "-set", "from", "100", "-set", "domain", "sip.example.com"],
    ...["-set", "rtp_port", String(media.rtpPort), "-set", "answer_file", media.answerFile],
    ...["-au", "100", "-ap", stack.extensionPasswords["100"]],
  ];
}

/** Writes a file into a peer-visible temp location (e.g. a sipp scenario) and returns its path. */
export async function writeScenario(stack: { readonly root: string }, name: string, xml: string): Promise<string> {
  const path = join(stack.root, "scenarios", name);
  await mkdir(join(stack.root, "scenarios"), { recursive: true });
  await writeFile(path, xml);
  return path;
}
