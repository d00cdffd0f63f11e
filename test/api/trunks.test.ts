import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GatewaySpec } from "../../sip/apiContract";
import { einsUndEins, plusnet } from "../support/apiFixtures";
import { startHarness, type Harness } from "../support/loopbackApi";

const RESCAN_ALL = ["sofia profile external-ipv4 rescan", "sofia profile internal rescan"];

describe("PUT /api/v1/sip/trunks (declarative trunk set, smallest Sofia reload)", () => {
  let h: Harness;
  /** ESL commands sent after the initial connect's rescan. */
  let sentSince: () => string[];

  beforeEach(async () => {
    h = await startHarness();
    // The connect's user cache flush and rescan of every profile.
    await h.freeswitch.waitForCommands(RESCAN_ALL.length + 1);
    const offset = h.freeswitch.commands.length;
    sentSince = () => h.freeswitch.commands.slice(offset);
  });
  afterEach(() => h.close());

  const put = (body: unknown, token: string | null = h.secrets.adminToken) =>
    h.request("PUT", "/api/v1/sip/trunks", { token: token ?? undefined, body });

  it("adds new gateways and rescans each profile that gained one", async () => {
    const reply = await put([plusnet, einsUndEins]);
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({
      added: ["einsundeins", "plusnet"],
      changed: [],
      removed: [],
      unchanged: [],
      reload: { status: "applied", commands: RESCAN_ALL },
    });
    expect(sentSince()).toEqual(RESCAN_ALL);
  });

  it("kills a changed gateway and a removed one, then rescans only their profiles", async () => {
    const second: GatewaySpec = { ...plusnet, name: "plusnet-backup", outboundProxy: "92.197.177.16" };
    await put([plusnet, second, einsUndEins]);
    const before = sentSince().length;

    const changed: GatewaySpec = { ...plusnet, retrySeconds: 60 };
    const reply = await put([changed, einsUndEins]);

    expect(reply.json()).toMatchObject({
      added: [],
      changed: ["plusnet"],
      removed: ["plusnet-backup"],
      unchanged: ["einsundeins"],
    });
    expect(sentSince().slice(before)).toEqual([
      "sofia profile external-ipv4 killgw plusnet",
      "sofia profile external-ipv4 killgw plusnet-backup",
      "sofia profile external-ipv4 rescan",
    ]);
  });

  it("sends nothing over ESL and rewrites nothing when the set is unchanged (order does not matter)", async () => {
    await put([plusnet, einsUndEins]);
    const before = sentSince().length;
    const reply = await put([einsUndEins, plusnet]);
    expect(reply.json()).toEqual({
      added: [],
      changed: [],
      removed: [],
      unchanged: ["einsundeins", "plusnet"],
      reload: { status: "none", commands: [] },
    });
    expect(sentSince().slice(before)).toEqual([]);
  });

  it("treats a new password as a change (killgw + rescan), so the gateway re-registers with it", async () => {
    await put([einsUndEins]);
    const before = sentSince().length;
    await put([{ ...einsUndEins, password: "rotated-password" }]);
    expect(sentSince().slice(before)).toEqual([
      "sofia profile internal killgw einsundeins",
      "sofia profile internal rescan",
    ]);
  });

  it("kills a gateway that moved profile on its old profile and rescans both", async () => {
    await put([plusnet]);
    const before = sentSince().length;
    await put([{ ...plusnet, profile: "internal" }]);
    expect(sentSince().slice(before)).toEqual(["sofia profile external-ipv4 killgw plusnet", ...RESCAN_ALL]);
  });

  it("serves the new gateways to FreeSWITCH's rescan that the PUT triggers", async () => {
    await put([plusnet]);
    const answer = await h.xmlCurl({ section: "directory", purpose: "gateways", profile: "external-ipv4" });
    expect(answer.body).toContain('<gateway name="plusnet">');
    await put([]);
    const after = await h.xmlCurl({ section: "directory", purpose: "gateways", profile: "external-ipv4" });
    expect(after.body).not.toContain("plusnet");
  });

  it("rejects gateway names repeated across profiles, naming them, and changes nothing", async () => {
    const reply = await put([plusnet, { ...einsUndEins, name: "plusnet" }]);
    expect(reply.status).toBe(400);
    expect(reply.json().error).toMatch(/unique across all profiles.*plusnet/);
    expect(sentSince()).toEqual([]);
    expect((await h.request("GET", "/readyz")).json().trunks).toBe(0);
  });

  it("rejects a gateway on a profile this host does not run", async () => {
    const reply = await put([{ ...plusnet, profile: "external-ipv6" }]);
    expect(reply.status).toBe(400);
    expect(reply.json().error).toContain("plusnet → external-ipv6");
  });

  it.each([
    ["a name that would extend the ESL command", [{ ...plusnet, name: "plusnet\nsofia profile internal restart" }]],
    ["a name with a space", [{ ...plusnet, name: "plus net" }]],
    ["a registering gateway without password", [{ ...einsUndEins, password: undefined }]],
    ["an unknown field", [{ ...plusnet, sipPort: 5080 }]],
    ["an object instead of an array", { plusnet }],
    ["a missing body", undefined],
  ])("rejects %s with 400", async (_what, body) => {
    const reply = await put(body);
    expect(reply.status).toBe(400);
    expect(sentSince()).toEqual([]);
  });

  it("rejects malformed JSON with 400", async () => {
    const reply = await h.request("PUT", "/api/v1/sip/trunks", {
      token: h.secrets.adminToken,
      body: "[{",
      headers: { "Content-Type": "application/json" },
    });
    expect(reply.status).toBe(400);
  });

  it("needs the admin token: 401 without one, 401 with a wrong one", async () => {
    expect((await put([plusnet], null)).status).toBe(401);
    expect((await put([plusnet], "not-the-token")).status).toBe(401);
    expect(sentSince()).toEqual([]);
  });
});
