import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XML_CURL_USER } from "../../sip/apiContract";
import { alice, einsUndEins, plusnet } from "../support/apiFixtures";
import { basic, gatewaysRequest, sipAuthRequest, startHarness, type Harness } from "../support/loopbackApi";

describe("structured logs", () => {
  let h: Harness;
  const extensionToken = "alice-token-for-log-test";

  beforeAll(async () => {
    h = await startHarness();
    await h.freeswitch.waitForCommands(2);
    // Every kind of request that carries a secret, the failing variants included.
    await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet, einsUndEins] });
    await h.request("PUT", "/api/v1/sip/trunks", {
      token: h.secrets.adminToken,
      body: [{ ...einsUndEins, name: "bad name" }],
    });
    await h.request("PUT", "/api/v1/sip/extensions", {
      token: h.secrets.adminToken,
      body: [{ ...alice, apiTokenSha256: createHash("sha256").update(extensionToken).digest("hex") }],
    });
    await h.request("PUT", "/api/v1/sip/extensions", { token: "wrong-token", body: [alice] });
    await h.request("GET", "/api/v1/sip/extensions/1001/config", { token: extensionToken });
    await h.xmlCurl(gatewaysRequest("internal"));
    await h.xmlCurl(sipAuthRequest("1001"));
    await h.xmlCurl(sipAuthRequest("1001"), basic(XML_CURL_USER, "guessed-password"));
    await h.xmlCurl({ section: "directory", sip_auth_response: "deadbeef", password: "form-secret" });
    await h.restart();
  });
  afterAll(() => h.close());

  it("are one JSON object per line", () => {
    expect(h.logs.length).toBeGreaterThan(10);
    for (const line of h.logs) expect(() => JSON.parse(line)).not.toThrow();
  });

  it("never contain a secret, a SIP password, a token or an Authorization header", () => {
    const text = h.logs.join("\n");
    const secrets = [
      h.secrets.adminToken,
      h.secrets.eslPassword,
      h.secrets.xmlCurlPassword,
      h.secrets.fernetKey,
      einsUndEins.password!,
      alice.password,
      extensionToken,
      "guessed-password",
      "wrong-token",
      "form-secret",
      basic(XML_CURL_USER, h.secrets.xmlCurlPassword).slice("Basic ".length),
    ];
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text.toLowerCase()).not.toContain('"authorization"');
  });

  it("record what a write changed and which ESL commands ran", () => {
    const entries = h.logs.map((l) => JSON.parse(l));
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: "trunks replaced", added: ["einsundeins", "plusnet"] }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: "ESL command applied", command: "sofia profile internal rescan" }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ msg: "xml_curl request with wrong or missing credentials" }),
    );
  });
});
