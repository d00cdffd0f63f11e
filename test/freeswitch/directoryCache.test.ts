/**
 * FreeSWITCH's user cache against the real FreeSWITCH: with the stack's default
 * freeswitch.directoryCacheSeconds a registered user's answer is kept in FreeSWITCH (a second
 * REGISTER asks the config API nothing), and once the deploy's PUT of a changed password or a
 * removed extension has returned, the very next REGISTER is judged by the new set: the old
 * password and the removed extension are refused, the new password registers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XML_CURL_PATH } from "../../sip/apiContract";
import { CONFIG_API_PORT } from "../../sip/hostLayout";
import { deployPut } from "../support/deployCommands";
import { netnsExec, TEST_NETWORK } from "../support/namespaces";
import { startStack, stopStack, waitForApiEsl, type RunningStack } from "../support/freeswitchStack";
import { sendRequest } from "../support/sipPeers";

const DOMAIN = "sip.example.net";
const INTERNAL4 = `${TEST_NETWORK.server.ipv4}:5080`;
const EXTENSIONS_PATH = "/api/v1/sip/extensions";

describe("FreeSWITCH's user cache and the config API's flushes (real FreeSWITCH)", () => {
  let stack: RunningStack;

  const register = (user: string, password: string) =>
    sendRequest(stack, "phone", TEST_NETWORK.phone.ipv4, {
      method: "REGISTER",
      server: INTERNAL4,
      uri: `sip:${DOMAIN}`,
      from: `sip:${user}@${DOMAIN}`,
      to: `sip:${user}@${DOMAIN}`,
      user,
      password,
    });
  /** How many directory requests the config API has answered (its own /metrics). */
  const directoryRequests = async () => {
    const text = await netnsExec(stack.netns.server, ["curl", "-fsS", `http://127.0.0.1:${CONFIG_API_PORT}/metrics`]);
    return text
      .split("\n")
      .filter(
        (l) => l.startsWith("freeswitch_config_api_http_requests_total{") && l.includes(`route="${XML_CURL_PATH}"`),
      )
      .reduce((n, l) => n + Number(l.split(" ").pop()), 0);
  };

  beforeAll(async () => {
    stack = await startStack({ mutate: (c) => void (c.freeswitch.domain = DOMAIN) });
    // Changes are flushed over ESL: the PUTs below need the API connected, as on a running host.
    await waitForApiEsl(stack);
  });
  afterAll(() => stopStack(stack));

  it("answers a repeated REGISTER from FreeSWITCH's cache, without asking the config API", async () => {
    expect((await register("100", stack.extensionPasswords["100"])).status).toBe(200);
    const asked = await directoryRequests();
    expect((await register("100", stack.extensionPasswords["100"])).status).toBe(200);
    expect(await directoryRequests()).toBe(asked);
  });

  it("refuses the old password at once after the deploy's PUT of a new one returned, and takes the new one", async () => {
    const old = stack.extensionPasswords["100"];
    expect((await register("100", old)).status).toBe(200);
    const changed = stack.extensions.map((e) => (e.id === "100" ? { ...e, password: "a-brand-new-sip-password" } : e));
    const answer = JSON.parse(await deployPut(stack, EXTENSIONS_PATH, changed));
    expect(answer).toMatchObject({ changed: ["100"], flushed: ["100"] });
    expect([401, 403]).toContain((await register("100", old)).status);
    expect((await register("100", "a-brand-new-sip-password")).status).toBe(200);
  });

  it("refuses a removed extension at once after the deploy's PUT returned", async () => {
    expect((await register("200", stack.extensionPasswords["200"])).status).toBe(200);
    const without = stack.extensions
      .filter((e) => e.id !== "200")
      .map((e) => (e.id === "100" ? { ...e, password: "a-brand-new-sip-password" } : e));
    const answer = JSON.parse(await deployPut(stack, EXTENSIONS_PATH, without));
    expect(answer).toMatchObject({ removed: ["200"], flushed: ["200"] });
    expect([401, 403]).toContain((await register("200", stack.extensionPasswords["200"])).status);
  });
});
