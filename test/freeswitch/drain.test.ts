/**
 * Restarts wait for calls to end (sip/drain.ts), on the real FreeSWITCH: the freeswitch-restart
 * group's own deploy script (writeFilesCommand: its files, then the drain, then `docker restart`),
 * run on this stack's container as `pulumi up` runs it. A call from an extension leaves through
 * the Plusnet gateway to the carrier stand-in (sipp UAS) as in calls.test.ts, and:
 *   - a call shorter than the bound is not cut: the restart waits and comes right after it ends,
 *     and a phone that REGISTERs meanwhile is registered; the same for a Sofia profile restart
 *     (the profile-internal-ipv4 group's script);
 *   - a call longer than the bound is dropped by the restart at the bound;
 *   - with no call up, the restart begins at once;
 *   - an ESL password rotation still waits: fs_cli in the container reads the fs_cli.conf mounted
 *     at its start (the old password, as the running FreeSWITCH's) until the restart.
 * When the restart began is read from Docker's own `kill` event for the container.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderBundle } from "../../sip/bundle";
import { runDeployGroup, type ScriptRun } from "../support/deployCommands";
import { docker } from "../support/exec";
import { callCount, sofiaStatus } from "../support/freeswitchCli";
import { TEST_NETWORK } from "../support/namespaces";
import { startStack, stopStack, waitForApiEsl, waitForFreeswitch, type RunningStack } from "../support/freeswitchStack";
import { loadTestStack } from "../support/freeswitchTestStack";
import { phoneCallArgs, sipp, startAnsweringCarrier, type SippProcess, type SippResult } from "../support/sipp";
import { sendRequest } from "../support/sipPeers";
import { waitFor } from "../support/waitFor";

const DOMAIN = "sip.example.com";
/** How close after its cause (the call's end, the bound, the command) a restart must begin. */
const PROMPTLY_MS = 2_500;

/** The bundle as rendered with this drain bound (only the restart commands differ), and these secrets. */
const filesWithBound = (stack: RunningStack, drainSeconds: number, secrets = stack.secrets) =>
  renderBundle(loadTestStack((c) => (c.maintenance = { drainSeconds })).model, TEST_NETWORK.server, secrets);

/**
 * When Docker asked the container to stop (SIGTERM, the start of `docker restart`; a SIGKILL
 * after its stop timeout would be a second event), in ms since the epoch.
 */
async function restartsBetween(stack: RunningStack, fromMs: number, toMs: number): Promise<number[]> {
  const out = await docker(
    "events",
    "--since",
    (fromMs / 1000).toFixed(3),
    "--until",
    (toMs / 1000).toFixed(3),
    "--filter",
    `container=${stack.containers.freeswitch}`,
    "--filter",
    "event=kill",
    "--format",
    "{{.TimeNano}} {{.Actor.Attributes.signal}}",
  );
  return out
    .trim()
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([ns, signal]) => ns && signal === "15")
    .map(([ns]) => Number(BigInt(ns) / 1_000_000n));
}

/** One call from extension 100 to an outside number, held for `holdMs` and then hung up by the phone. */
function callFromExtension(stack: RunningStack, holdMs: number): Promise<SippResult> {
  return sipp(
    stack,
    "phone",
    [
      ...phoneCallArgs(stack, 5072),
      "-m",
      "1",
      "-l",
      "1",
      "-d",
      String(holdMs),
      "-timeout",
      String(Math.ceil(holdMs / 1000) + 60),
      "-nostdin",
    ],
    holdMs + 90_000,
  );
}

/** Starts a call and waits until FreeSWITCH counts it; `ended` resolves with sipp's result and when it exited. */
async function callInProgress(
  stack: RunningStack,
  holdMs: number,
): Promise<{ ended: Promise<SippResult & { endedAt: number }> }> {
  const ended = callFromExtension(stack, holdMs).then((r) => ({ ...r, endedAt: Date.now() }));
  await waitFor("the call to be up", 20_000, async () => (await callCount(stack)) === 1).catch(async (error) => {
    throw new Error(`${(error as Error).message}; sipp said: ${JSON.stringify((await ended).stderr.slice(0, 2000))}`);
  });
  return { ended };
}

const registerPhone = (stack: RunningStack) =>
  sendRequest(stack, "phone", TEST_NETWORK.phone.ipv4, {
    method: "REGISTER",
    server: `${TEST_NETWORK.server.ipv4}:5080`,
    uri: `sip:${DOMAIN}`,
    from: `sip:200@${DOMAIN}`,
    to: `sip:200@${DOMAIN}`,
    user: "200",
    password: stack.extensionPasswords["200"],
  });

describe("restarts wait for calls to end (real FreeSWITCH)", () => {
  let stack: RunningStack;
  let carrier: SippProcess;

  /** Back to a stack that routes calls: profiles up, the API's ESL connected, the Plusnet gateway loaded. */
  const settled = async () => {
    await waitForFreeswitch(stack);
    await waitForApiEsl(stack);
    await waitFor("the Plusnet gateway", 30_000, async () =>
      (await sofiaStatus(stack)).some((r) => r.name === "external-ipv4::plusnet"),
    );
  };

  /** Runs a group's deploy script with this bound; resolves with its output and when it started and ended. */
  const deployRestart = async (
    drainSeconds: number,
    group = "freeswitch-restart",
    secrets = stack.secrets,
  ): Promise<ScriptRun & { startedAt: number; endedAt: number }> => {
    const files = filesWithBound(stack, drainSeconds, secrets);
    const startedAt = Date.now();
    const run = await runDeployGroup(stack, files, group);
    return { ...run, startedAt, endedAt: Date.now() };
  };

  beforeAll(async () => {
    stack = await startStack();
    // The Plusnet stand-in answers every call (and OPTIONS pings: -aa) until stopped.
    carrier = startAnsweringCarrier(stack);
    await settled();
  });
  // Each test starts from a settled stack, also after one that failed halfway through a restart.
  beforeEach(settled);
  afterAll(async () => {
    await carrier?.stop();
    await stopStack(stack);
  });

  it("restarts at once when no call is up", async () => {
    expect(await callCount(stack)).toBe(0);
    const run = await deployRestart(300);
    expect(run.code, run.stderr).toBe(0);
    const restarts = await restartsBetween(stack, run.startedAt - 1000, run.endedAt + 1000);
    expect(restarts).toHaveLength(1);
    expect(restarts[0] - run.startedAt).toBeLessThan(PROMPTLY_MS);
    // Nothing to wait for, nothing said.
    expect(run.stderr).not.toContain("drain:");
    await settled();
  }, 180_000);

  it("waits for a call shorter than the bound, registers a phone meanwhile, and restarts right after the call ends", async () => {
    const { ended: call } = await callInProgress(stack, 15_000);
    const restart = deployRestart(60);
    let finished = false;
    void restart.then(() => (finished = true));

    // While the drain waits: the call stays up, FreeSWITCH is not restarted, and a phone registers.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(finished).toBe(false);
    expect(await callCount(stack)).toBe(1);
    expect((await registerPhone(stack)).status).toBe(200);

    const ended = await call;
    const run = await restart;
    // The call was not cut: sipp hung it up itself after its 15 s, and FreeSWITCH sent nothing unexpected.
    expect(ended.stdout, ended.stderr).toMatch(/Successful call\s+\|\s+\d+\s+\|\s+1\b/);
    expect(ended.stdout).toMatch(/Failed call\s+\|\s+\d+\s+\|\s+0\b/);
    expect(ended.code).toBe(0);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("call(s) up on");
    expect(run.stderr).toContain("waiting up to 60 s for them to end");
    expect(run.stderr).toMatch(/no call up on \S+ after \d+ s: restarting now/);
    const restarts = await restartsBetween(stack, run.startedAt - 1000, run.endedAt + 1000);
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toBeGreaterThan(ended.endedAt - 1000);
    expect(restarts[0] - ended.endedAt).toBeLessThan(PROMPTLY_MS);
    await settled();
  }, 240_000);

  it("waits for the call before a Sofia profile restart too (profile-internal-ipv4, the profile the call came in on)", async () => {
    const { ended: call } = await callInProgress(stack, 12_000);
    const run = await deployRestart(60, "profile-internal-ipv4");
    const ended = await call;
    // Not cut; the profile restarted once the call was over (the call outlasts Sofia's 10 s
    // minimum uptime for a restart, so the restart is not refused after the previous test's).
    expect(ended.stdout).toMatch(/Successful call\s+\|\s+\d+\s+\|\s+1\b/);
    expect(ended.code).toBe(0);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("waiting up to 60 s for them to end");
    expect(run.stdout).toContain("restarting: internal-ipv4");
    expect(run.endedAt - ended.endedAt).toBeLessThan(PROMPTLY_MS);
    await settled();
  }, 240_000);

  it("restarts at the bound, dropping a call longer than it, and says so", async () => {
    const { ended: call } = await callInProgress(stack, 30_000);
    const run = await deployRestart(8);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /drain: 1 call\(s\) still up on \S+ after 8 s \(maintenance\.drainSeconds\): restarting anyway, they drop/,
    );
    const restarts = await restartsBetween(stack, run.startedAt - 1000, run.endedAt + 1000);
    expect(restarts).toHaveLength(1);
    expect(restarts[0] - run.startedAt).toBeGreaterThanOrEqual(8_000);
    // Whole seconds on the drain's clock: past the bound by up to a second, then a poll.
    expect(restarts[0] - run.startedAt).toBeLessThan(9_000 + PROMPTLY_MS);
    // The restart ended the call before its 30 s were up.
    const ended = await call;
    expect(ended.endedAt - run.startedAt).toBeLessThan(25_000);
    expect(ended.stdout).toMatch(/Failed call\s+\|\s+\d+\s+\|\s+1\b/);
    await settled();
  }, 240_000);

  // Last: the config API's ESL password changes with it, and the stack keeps the old secrets.
  it("still waits when the restart is an ESL password rotation (fs_cli reads the mounted fs_cli.conf as it was until the restart)", async () => {
    const rotated = { ...stack.secrets, eslPassword: "fsimg-esl-rotated-5d0a" };
    const { ended: call } = await callInProgress(stack, 10_000);
    const run = await deployRestart(60, "freeswitch-restart", rotated);
    const ended = await call;
    expect(ended.code, ended.stderr).toBe(0);
    expect(run.code, run.stderr).toBe(0);
    // Had fs_cli read the new password against the running FreeSWITCH, it would have found no count and restarted at once.
    expect(run.stderr).toContain("waiting up to 60 s for them to end");
    const restarts = await restartsBetween(stack, run.startedAt - 1000, run.endedAt + 1000);
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toBeGreaterThan(ended.endedAt - 1000);
    // The same deploy's api-restart step gives the API the new password; all is back as after any rotation.
    expect((await runDeployGroup(stack, filesWithBound(stack, 60, rotated), "api-restart")).code).toBe(0);
    await settled();
    expect(await callCount(stack)).toBe(0);
  }, 240_000);
});
