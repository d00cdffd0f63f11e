import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExtensionRecord } from "../../sip/apiContract";
import { renderUserDirectory } from "../../sip/directory";
import { DEFAULT_DIRECTORY_CACHE_SECONDS } from "../../sip/schema";
import { alice, bob, plusnet } from "../support/apiFixtures";
import { DOMAIN, sipAuthRequest, startHarness, type Harness } from "../support/loopbackApi";

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
const ALICE_TOKEN = "alice-api-token-5b7f0c2e";
const BOB_TOKEN = "bob-api-token-91d3aa04";

describe("extensions and GET /api/v1/sip/extensions/{id}/config", () => {
  let h: Harness;
  const withTokens: ExtensionRecord[] = [
    { ...alice, apiTokenSha256: sha256(ALICE_TOKEN) },
    // Bob has a token but not the credentials permission.
    { ...bob, apiTokenSha256: sha256(BOB_TOKEN) },
  ];
  const config = (id: string, token?: string) => h.request("GET", `/api/v1/sip/extensions/${id}/config`, { token });

  beforeAll(async () => {
    h = await startHarness();
    const reply = await h.request("PUT", "/api/v1/sip/extensions", { token: h.secrets.adminToken, body: withTokens });
    expect(reply.json()).toEqual({ added: ["1001", "1002"], changed: [], removed: [], unchanged: [], flushed: [] });
  });
  afterAll(() => h.close());

  it("answers 401 without a token", async () => {
    const reply = await config("1001");
    expect(reply.status).toBe(401);
    expect(reply.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(reply.body).not.toContain(alice.password);
  });

  it("answers 401 with a token nobody holds", async () => {
    expect((await config("1001", "made-up-token")).status).toBe(401);
  });

  it("answers 403 to a token without sip:credentials:read", async () => {
    const reply = await config("1002", BOB_TOKEN);
    expect(reply.status).toBe(403);
    expect(reply.json().error).toContain("sip:credentials:read");
    expect(reply.body).not.toContain(bob.password);
  });

  it("answers 403 to an extension's token asking for another extension, even with the permission", async () => {
    const reply = await config("1002", ALICE_TOKEN);
    expect(reply.status).toBe(403);
    expect(reply.body).not.toContain(bob.password);
  });

  it("gives an extension with sip:credentials:read its own config with SIP credentials", async () => {
    const reply = await config("1001", ALICE_TOKEN);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("cache-control")).toBe("no-store");
    expect(reply.json()).toEqual({
      id: "1001",
      displayName: "Alice",
      outboundCallerId: "+4934556643378",
      context: "default",
      permissions: ["sip:credentials:read"],
      sip: { domain: DOMAIN, username: "1001", password: alice.password },
    });
  });

  it("gives the admin token any extension's config", async () => {
    const reply = await config("1002", h.secrets.adminToken);
    expect(reply.status).toBe(200);
    expect(reply.json().sip.password).toBe(bob.password);
  });

  it("answers 404 to the admin for an extension that does not exist", async () => {
    expect((await config("4711", h.secrets.adminToken)).status).toBe(404);
  });

  it("does not let an extension token write: 403 on PUT trunks and PUT extensions", async () => {
    expect((await h.request("PUT", "/api/v1/sip/trunks", { token: ALICE_TOKEN, body: [plusnet] })).status).toBe(403);
    expect((await h.request("PUT", "/api/v1/sip/extensions", { token: ALICE_TOKEN, body: [] })).status).toBe(403);
  });

  it("reports a changed and a removed extension, and FreeSWITCH's next lookup sees the change", async () => {
    const renamed = { ...withTokens[0], displayName: "Alice Liddell" };
    const reply = await h.request("PUT", "/api/v1/sip/extensions", { token: h.secrets.adminToken, body: [renamed] });
    expect(reply.json()).toEqual({
      added: [],
      changed: ["1001"],
      removed: ["1002"],
      unchanged: [],
      flushed: ["1001", "1002"],
    });
    expect((await h.xmlCurl(sipAuthRequest("1001"))).body).toBe(
      renderUserDirectory(DOMAIN, renamed, DEFAULT_DIRECTORY_CACHE_SECONDS * 1000),
    );
    expect((await h.xmlCurl(sipAuthRequest("1002"))).body).toContain('status="not found"');
    // Bob's token went with Bob.
    expect((await config("1002", BOB_TOKEN)).status).toBe(401);
    await h.request("PUT", "/api/v1/sip/extensions", { token: h.secrets.adminToken, body: withTokens });
  });

  it.each([
    ["repeated ids", [alice, { ...bob, id: alice.id }], /unique.*1001/],
    [
      "a repeated API token",
      [
        { ...alice, apiTokenSha256: sha256("x") },
        { ...bob, apiTokenSha256: sha256("x") },
      ],
      /own API token/,
    ],
    ["a short SIP password", [{ ...alice, password: "1234" }], /at least 8/],
    ["a caller ID that is not E.164", [{ ...alice, outboundCallerId: "0345 566 43378" }], /E\.164/],
    ["an id with a slash", [{ ...alice, id: "10/01" }], /extension id/],
  ])("rejects %s with 400 and a message naming the problem", async (_what, body, message) => {
    const reply = await h.request("PUT", "/api/v1/sip/extensions", { token: h.secrets.adminToken, body });
    expect(reply.status).toBe(400);
    expect(reply.json().error).toMatch(message);
  });
});
