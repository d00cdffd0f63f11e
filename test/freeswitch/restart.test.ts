/**
 * Must show 7: gateways come from the config API, so they must come back on their own when the
 * order of starts is not the deploy's: FreeSWITCH up before the API (a host reboot), and the API
 * restarted under a running FreeSWITCH. The API re-scans the profiles whenever its ESL connection
 * opens; FreeSWITCH itself never retries.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../support/exec";
import { sofiaStatus } from "../support/freeswitchCli";
import { startStack, stopStack, waitForFreeswitch, type RunningStack } from "../support/freeswitchStack";
import { waitFor } from "../support/waitFor";

/** The deadline the gateways must meet after the API answers again. */
const BACK_WITHIN_MS = 10_000;

const gatewayNames = async (stack: RunningStack) =>
  (await sofiaStatus(stack))
    .filter((r) => r.type === "gateway")
    .map((r) => r.name)
    .sort();

const apiReady = (stack: RunningStack) =>
  waitFor("the config API to answer /readyz", 60_000, async () => {
    await docker("exec", stack.containers.api, "node", "/app/healthcheck.js");
    return true;
  });

describe("gateways after FreeSWITCH and the config API start in another order", () => {
  let stack: RunningStack;
  const expected = ["external-ipv4::plusnet", "internal::oneandone"];

  beforeAll(async () => {
    stack = await startStack();
    expect(await gatewayNames(stack)).toEqual(expected);
  });
  afterAll(async () => {
    await stopStack(stack);
  });

  it("are back within 10 s of the API answering when FreeSWITCH started first (without them)", async () => {
    await docker("stop", "-t", "5", stack.containers.api);
    await docker("restart", "-t", "5", stack.containers.freeswitch);
    await waitForFreeswitch(stack);
    // Started without the API: the profiles run, but no gateway could be loaded.
    expect(await gatewayNames(stack)).toEqual([]);
    await docker("start", stack.containers.api);
    await apiReady(stack);
    expect(
      await waitFor(
        "the gateways to be back",
        BACK_WITHIN_MS,
        async () => JSON.stringify(await gatewayNames(stack)) === JSON.stringify(expected),
      ),
    ).toBe(true);
  });

  it("stay up while the API restarts, and are there within 10 s of it answering again", async () => {
    await docker("stop", "-t", "5", stack.containers.api);
    // FreeSWITCH keeps the gateways it has: an API restart disrupts no trunk.
    expect(await gatewayNames(stack)).toEqual(expected);
    await docker("start", stack.containers.api);
    await apiReady(stack);
    expect(
      await waitFor(
        "the gateways to be listed",
        BACK_WITHIN_MS,
        async () => JSON.stringify(await gatewayNames(stack)) === JSON.stringify(expected),
      ),
    ).toBe(true);
  });
});
