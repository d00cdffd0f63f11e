/**
 * A stack without host.hostname or freeswitch.domain: its default SIP domain must work on the real
 * FreeSWITCH. (With the server's IPv6 address as the domain, Sofia looks users up as
 * `[2001:db8::1]` and no phone could register; bracketed, calls to extensions failed.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sipDomain } from "../../sip/bundle";
import { TEST_NETWORK } from "../support/namespaces";
import { startStack, stopStack, type RunningStack } from "../support/freeswitchStack";
import { sendRequest, startPeer, type RunningPeer } from "../support/sipPeers";

describe("the default SIP domain (no host name, no freeswitch.domain)", () => {
  let stack: RunningStack;
  let phone: RunningPeer | undefined;

  beforeAll(async () => {
    stack = await startStack({ mutate: (c) => delete c.freeswitch.domain });
  });
  afterAll(async () => {
    phone?.stop();
    await stopStack(stack);
  });

  it("lets an extension register over IPv6 and take calls from a carrier and from another extension", async () => {
    const domain = sipDomain(stack.loaded.model, TEST_NETWORK.server);
    expect(stack.loaded.model.host.hostname).toBeUndefined();
    phone = await startPeer(stack, "phone", {
      bind: TEST_NETWORK.phone.ipv6,
      port: 5070,
      invite: 486,
      register: {
        server: `[${TEST_NETWORK.server.ipv6}]:5060`,
        domain,
        user: "100",
        password: stack.extensionPasswords["100"],
      },
    });
    expect(phone.lines[0]).toMatchObject({ event: "response", method: "REGISTER", status: 200 });

    const fromCarrier = await sendRequest(stack, "plusnet", TEST_NETWORK.plusnet.ipv4, {
      method: "INVITE",
      server: `${TEST_NETWORK.server.ipv4}:5060`,
      uri: `sip:+493455667290@${TEST_NETWORK.server.ipv4}`,
      from: "sip:+4930111@carrier.example",
      to: `sip:+493455667290@${TEST_NETWORK.server.ipv4}`,
    });
    expect(fromCarrier.status).toBe(486);
    const fromExtension = await sendRequest(stack, "phone", TEST_NETWORK.phone.ipv4, {
      method: "INVITE",
      server: `${TEST_NETWORK.server.ipv4}:5080`,
      uri: `sip:100@${domain}`,
      from: `sip:200@${domain}`,
      to: `sip:100@${domain}`,
      user: "200",
      password: stack.extensionPasswords["200"],
    });
    expect(fromExtension.status).toBe(486);
    expect(phone.requests("INVITE")).toHaveLength(2);
  });
});
