/**
 * The FreeSWITCH container's drift check on Pulumi's mock runtime: it puts the container back with
 * the start step's own script, keeps the SSH key secret, and comes before the verification.
 * (What refresh and up do with it is tested for real in test/e2e.)
 */
import { beforeAll, describe, expect, it } from "vitest";
import { isSecretValue, reveal, type RegisteredResource } from "../support/pulumiMocks";
import { buildStack, prodConfig, type StackRun } from "../support/mockedStack";

let prod: StackRun;
beforeAll(async () => {
  prod = await buildStack("prod", prodConfig());
}, 60_000);

const named = (name: string): RegisteredResource => prod.run.resources.find((r) => r.name === name)!;

describe("freeswitch-running", () => {
  it("is a resource Pulumi reads back on refresh, after the container's start step", () => {
    const check = named("freeswitch-running");
    expect(check.type).toBe("pulumi-nodejs:dynamic:Resource");
    expect(check.dependencies.some((urn) => urn.endsWith("::freeswitch-container"))).toBe(true);
    expect(check.inputs.container).toBe("telephony-freeswitch");
  });

  it("puts the container back with the start step's own script", () => {
    expect(reveal(named("freeswitch-running").inputs.startScript)).toBe(
      reveal(named("freeswitch-container").inputs.create),
    );
  });

  it("keeps the SSH key secret", () => {
    const { connection } = named("freeswitch-running").inputs;
    expect(isSecretValue(connection) || isSecretValue(connection.privateKey)).toBe(true);
  });

  it("verifies FreeSWITCH only after it has seen the container running", () => {
    expect(named("verify-sofia-status").dependencies.some((urn) => urn.endsWith("::freeswitch-running"))).toBe(true);
  });
});
