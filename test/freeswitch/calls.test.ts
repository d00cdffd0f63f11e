/**
 * Must show 8: changes deployed while calls are up disrupt none of them. Twenty calls from an
 * extension (sipp on the phone's IPv4) leave through the Plusnet gateway to the carrier stand-in
 * (sipp UAS on the outbound proxy's address) and stay up while an ACL range is added, a trunk is
 * added and the other trunk's password changes, each deployed as `pulumi up` would.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callCount, sofiaStatus } from "../support/freeswitchCli";
import { redeploy, startStack, stopStack, type RunningStack } from "../support/freeswitchStack";
import { TRUNK_PASSWORDS } from "../support/freeswitchTestStack";
import { phoneCallArgs, sipp, startAnsweringCarrier, type SippProcess } from "../support/sipp";
import { waitFor } from "../support/waitFor";

const CALLS = 20;
/** How long each call stays up: long enough for the three deploys below. */
const HOLD_MS = 40_000;

const addAclRange = (c: Record<string, any>) => {
  c.trunks.plusnet.sourceRanges = ["198.51.100.0/24", "203.0.113.0/28"];
};
const addTrunk = (c: Record<string, any>) => {
  c.trunks.backup = {
    preset: "generic",
    profile: "external-ipv4",
    family: "ipv4",
    proxy: "198.51.100.40",
    outboundProxy: "198.51.100.40",
    register: false,
    sourceRanges: ["198.51.100.32/28"],
    signaling: [{ port: 5060, protocol: "udp" }],
  };
};

describe("calls in flight while the stack changes", () => {
  let stack: RunningStack;
  let carrier: SippProcess;

  beforeAll(async () => {
    stack = await startStack();
    // The Plusnet stand-in answers every call (and OPTIONS pings: -aa) until stopped.
    carrier = startAnsweringCarrier(stack);
  });
  afterAll(async () => {
    await carrier?.stop();
    await stopStack(stack);
  });

  it(`keeps all ${CALLS} calls up through an ACL change, a new trunk and another trunk's new password`, async () => {
    const phone = sipp(
      stack,
      "phone",
      [
        ...phoneCallArgs(stack, 5072),
        // 5 calls/s = 10 sessions/s: well inside switch.conf's sessions-per-second (30), which
        // rejects calls beyond it (each call is two sessions, the extension's and the trunk's).
        "-m",
        String(CALLS),
        "-l",
        String(CALLS),
        "-r",
        "5",
        "-d",
        String(HOLD_MS),
        "-timeout",
        "120",
        "-nostdin",
      ],
      150_000,
    );
    await waitFor(`${CALLS} calls in progress`, 20_000, async () => (await callCount(stack)) === CALLS).catch(
      async (error) => {
        throw new Error(
          `${(error as Error).message}; sipp said: ${JSON.stringify((await phone).stderr.slice(0, 2000))}`,
        );
      },
    );

    let current = await redeploy(stack, { mutate: addAclRange });
    expect(current.written).toEqual(["acl"]);
    current = await redeploy(current, { mutate: (c) => (addAclRange(c), addTrunk(c)) });
    expect(current.put).toEqual(["trunks"]);
    expect(current.answers.trunks).toMatchObject({ added: ["backup"], changed: [], reload: { status: "applied" } });
    current = await redeploy(current, {
      mutate: (c) => (addAclRange(c), addTrunk(c)),
      trunkPasswords: { ...TRUNK_PASSWORDS, oneandone: "fsimg-1und1-rotated-9c1d" },
    });
    expect(current.put).toEqual(["trunks"]);
    // The smallest reload for a changed gateway: killgw + rescan of its profile only.
    expect(current.answers.trunks).toMatchObject({ added: [], changed: ["oneandone"], reload: { status: "applied" } });
    expect(current.answers.trunks.reload.commands.join(" | ")).toMatch(/killgw oneandone.*rescan/);
    // The changes are live while the calls are still up.
    expect((await sofiaStatus(stack)).map((r) => r.name)).toContain("external-ipv4::backup");
    expect(await callCount(stack)).toBe(CALLS);

    const result = await phone;
    expect(result.stdout + result.stderr).toMatch(new RegExp(`Successful call\\s+\\|\\s+\\d+\\s+\\|\\s+${CALLS}\\b`));
    expect(result.stdout).toMatch(/Failed call\s+\|\s+\d+\s+\|\s+0\b/);
    expect(result.code).toBe(0);
  });
});
