/**
 * An IPv4-only phone gets audio: its call through the dual profile's IPv4 twin carries RTP over
 * IPv4 both ways. The phone's RTP goes to FreeSWITCH, on to the carrier stand-in (sipp echoing
 * every RTP packet back) and back through FreeSWITCH to the phone.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../support/environment";
import { TEST_NETWORK } from "../support/namespaces";
import { startStack, stopStack, type RunningStack } from "../support/freeswitchStack";
import { phoneCallArgs, sipp, startAnsweringCarrier, type SippProcess } from "../support/sipp";

const PACKETS = 100; // 2 s of 20 ms frames
const PHONE_RTP_PORT = 42000;

/** Runs rtpPeer.ts in the phone's namespace; resolves with what it counted. */
function rtpPeer(stack: RunningStack, answerFile: string): Promise<{ sent: number; received: number; to: string }> {
  return new Promise((resolvePromise, reject) => {
    const tsx = join(PROJECT_DIR, "node_modules/.bin/tsx");
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        stack.netns.phone,
        tsx,
        join(__dirname, "rtpPeer.ts"),
        TEST_NETWORK.phone.ipv4,
        String(PHONE_RTP_PORT),
        answerFile,
        String(PACKETS),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) =>
      code === 0 ? resolvePromise(JSON.parse(out)) : reject(new Error(`rtpPeer exited ${code}: ${err}`)),
    );
  });
}

describe("audio for an IPv4-only phone", () => {
  let stack: RunningStack;
  let carrier: SippProcess;

  beforeAll(async () => {
    stack = await startStack();
    // -rtp_echo: the carrier sends every RTP packet it gets back to where it came from.
    carrier = startAnsweringCarrier(stack, ["-mp", "41000", "-rtp_echo"]);
  });
  afterAll(async () => {
    await carrier?.stop();
    await stopStack(stack);
  });

  it("flows both ways over IPv4 through FreeSWITCH on a call to the carrier", async () => {
    const answerFile = join(stack.root, "answer");
    const media = rtpPeer(stack, answerFile);
    const call = await sipp(
      stack,
      "phone",
      [
        ...phoneCallArgs(stack, 5073, { rtpPort: PHONE_RTP_PORT, answerFile }),
        "-m",
        "1",
        "-d",
        "4000",
        "-timeout",
        "30",
        "-nostdin",
      ],
      40_000,
    );
    expect(call.code, call.stderr).toBe(0);
    const counted = await media;
    // FreeSWITCH answered with its IPv4 media address (the twin's rtp-ip), not the IPv6 one.
    expect(counted.to).toMatch(new RegExp(`^${TEST_NETWORK.server.ipv4.replace(/\./g, "\\.")}:\\d+$`));
    expect(counted.sent).toBe(PACKETS);
    // Through FreeSWITCH twice and the echo: allow the first packets lost to media set-up.
    expect(counted.received).toBeGreaterThan(PACKETS * 0.8);
  });
});
