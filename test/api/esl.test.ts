import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { einsUndEins, plusnet } from "../support/apiFixtures";
import { startFakeFreeswitch } from "../support/fakeFreeswitch";
import { startHarness, type Harness } from "../support/loopbackApi";
import { FLUSH_ALL_COMMAND } from "../../api/userCache";
import { eventually } from "../support/waitFor";

const RESCAN_ALL = ["sofia profile external-ipv4 rescan", "sofia profile internal rescan"];
/** What every (re)connect sends: the whole user cache flushed, then every profile rescanned. */
const ON_CONNECT = [FLUSH_ALL_COMMAND, ...RESCAN_ALL];

describe("ESL: connection to FreeSWITCH's event socket", () => {
  let h: Harness;
  afterEach(() => h.close());

  const readyz = async () => (await h.request("GET", "/readyz")).json();

  it("authenticates with the esl_password, flushes the user cache and rescans every profile on connect", async () => {
    h = await startHarness();
    expect(await h.freeswitch.waitForCommands(3)).toEqual(ON_CONNECT);
    expect(h.freeswitch.authenticated).toBe(1);
    expect((await eventually(readyz, (r) => r.esl === "connected")).esl).toBe("connected");
  });

  it("reconnects after FreeSWITCH drops the connection, then flushes and rescans again", async () => {
    h = await startHarness();
    await h.freeswitch.waitForCommands(3);
    h.freeswitch.dropConnections();
    await h.freeswitch.waitForAuthenticated(2);
    expect(await h.freeswitch.waitForCommands(6)).toEqual([...ON_CONNECT, ...ON_CONNECT]);
  });

  it("reports auth-failed in /readyz when FreeSWITCH refuses the password, and stays ready to serve", async () => {
    h = await startHarness({ eslPassword: "a-different-password" });
    const ready = await eventually(readyz, (r) => r.esl === "auth-failed");
    expect(ready).toMatchObject({ status: "ready", store: "loaded", esl: "auth-failed" });
    expect(h.freeswitch.commands).toEqual([]);
    expect(h.logs.join("\n")).toContain("ESL authentication failed");
  });

  it("keeps a trunk change made while FreeSWITCH is down, and applies it (killgw first) once it is back", async () => {
    h = await startHarness();
    await h.freeswitch.waitForCommands(ON_CONNECT.length);
    await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet, einsUndEins] });
    const port = h.freeswitch.port;
    await h.freeswitch.close();
    await eventually(readyz, (r) => r.esl !== "connected");

    const reply = await h.request("PUT", "/api/v1/sip/trunks", {
      token: h.secrets.adminToken,
      body: [{ ...plusnet, retrySeconds: 45 }],
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({
      changed: ["plusnet"],
      removed: ["einsundeins"],
      reload: { status: "deferred" },
    });

    const restarted = await startFakeFreeswitch(h.secrets.eslPassword, port);
    try {
      expect(await restarted.waitForCommands(5)).toEqual([
        FLUSH_ALL_COMMAND,
        "sofia profile external-ipv4 killgw plusnet",
        "sofia profile internal killgw einsundeins",
        ...RESCAN_ALL,
      ]);
    } finally {
      await restarted.close();
    }
  });

  const onDisk = (): string[] => JSON.parse(readFileSync(h.settings.storePath, "utf8")).pendingKills;

  /** Plusnet is loaded, FreeSWITCH goes away, then Plusnet changes: its killgw waits. */
  const changePlusnetWhileFreeswitchIsDown = async () => {
    h = await startHarness();
    await h.freeswitch.waitForCommands(ON_CONNECT.length);
    await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet] });
    const port = h.freeswitch.port;
    await h.freeswitch.close();
    await eventually(readyz, (r) => r.esl !== "connected");
    const reply = await h.request("PUT", "/api/v1/sip/trunks", {
      token: h.secrets.adminToken,
      body: [{ ...plusnet, retrySeconds: 45 }],
    });
    return { port, reply };
  };

  it("keeps a deferred killgw across an API restart, on disk until FreeSWITCH has answered it", async () => {
    const { port, reply } = await changePlusnetWhileFreeswitchIsDown();
    expect(reply.json().reload.status).toBe("deferred");
    expect(onDisk()).toEqual(["sofia profile external-ipv4 killgw plusnet"]);

    await h.restart();
    const restarted = await startFakeFreeswitch(h.secrets.eslPassword, port);
    try {
      expect(await restarted.waitForCommands(4)).toEqual([
        FLUSH_ALL_COMMAND,
        "sofia profile external-ipv4 killgw plusnet",
        ...RESCAN_ALL,
      ]);
      expect(onDisk()).toEqual([]);
    } finally {
      await restarted.close();
    }
  });

  it("keeps a killgw FreeSWITCH refuses during the resync pending, and sends it again on the next connect", async () => {
    const { port } = await changePlusnetWhileFreeswitchIsDown();
    const refusing = await startFakeFreeswitch(h.secrets.eslPassword, port);
    refusing.replyWith(() => "Invalid Profile [external-ipv4]");
    try {
      // The pending kill, then a rescan of each profile.
      expect(await refusing.waitForCommands(4)).toEqual([
        FLUSH_ALL_COMMAND,
        "sofia profile external-ipv4 killgw plusnet",
        ...RESCAN_ALL,
      ]);
      expect(onDisk()).toEqual(["sofia profile external-ipv4 killgw plusnet"]);
      refusing.replyWith(() => "+OK\n");
      refusing.dropConnections();
      expect((await refusing.waitForCommands(8)).slice(4)).toEqual([
        FLUSH_ALL_COMMAND,
        "sofia profile external-ipv4 killgw plusnet",
        ...RESCAN_ALL,
      ]);
      await eventually(
        async () => onDisk(),
        (kills) => kills.length === 0,
      );
      expect(onDisk()).toEqual([]);
    } finally {
      await refusing.close();
    }
  });

  it("counts killgw of a gateway FreeSWITCH does not run as done, and a real rescan answer as applied", async () => {
    h = await startHarness();
    await h.freeswitch.waitForCommands(ON_CONNECT.length);
    await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet] });
    // mod_sofia's own words (mod_sofia.c cmd_profile).
    h.freeswitch.replyWith((command) =>
      command.includes("killgw") ? "-ERR no such gateway.\n" : "Reload XML [Success]\n+OK scan complete\n",
    );
    const reply = await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [] });
    expect(reply.json().reload).toEqual({
      status: "applied",
      commands: ["sofia profile external-ipv4 killgw plusnet", "sofia profile external-ipv4 rescan"],
    });
    expect(onDisk()).toEqual([]);
  });

  it("reports a command FreeSWITCH refuses without -ERR (Invalid Profile) and keeps its killgw pending until accepted", async () => {
    h = await startHarness();
    await h.freeswitch.waitForCommands(ON_CONNECT.length);
    await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet] });
    h.freeswitch.replyWith(() => "Invalid Profile [external-ipv4]");
    const refused = await h.request("PUT", "/api/v1/sip/trunks", {
      token: h.secrets.adminToken,
      body: [{ ...plusnet, retrySeconds: 45 }],
    });
    expect(refused.status).toBe(200);
    expect(refused.json().reload).toEqual({
      status: "refused",
      commands: ["sofia profile external-ipv4 killgw plusnet", "sofia profile external-ipv4 rescan"],
      refused: [
        { command: "sofia profile external-ipv4 killgw plusnet", reply: "Invalid Profile [external-ipv4]" },
        { command: "sofia profile external-ipv4 rescan", reply: "Invalid Profile [external-ipv4]" },
      ],
    });
    expect(onDisk()).toEqual(["sofia profile external-ipv4 killgw plusnet"]);
    expect(h.logs.join("\n")).toContain("FreeSWITCH refused some commands");

    // The next PUT (even an unchanged set) sends the pending kill again, with its rescan.
    h.freeswitch.replyWith(() => "+OK\n");
    const sent = h.freeswitch.commands.length;
    const retried = await h.request("PUT", "/api/v1/sip/trunks", {
      token: h.secrets.adminToken,
      body: [{ ...plusnet, retrySeconds: 45 }],
    });
    expect(retried.json().reload).toEqual({
      status: "applied",
      commands: ["sofia profile external-ipv4 killgw plusnet", "sofia profile external-ipv4 rescan"],
    });
    expect(h.freeswitch.commands.slice(sent)).toEqual([
      "sofia profile external-ipv4 killgw plusnet",
      "sofia profile external-ipv4 rescan",
    ]);
    expect(onDisk()).toEqual([]);
  });
});

describe("health and readiness", () => {
  let h: Harness;
  afterEach(() => h.close());

  it("/healthz answers 200 while the process serves, even without FreeSWITCH", async () => {
    h = await startHarness();
    await h.freeswitch.close();
    const reply = await h.request("GET", "/healthz");
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ status: "ok" });
  });

  it("/readyz reports the loaded store and the ESL state", async () => {
    h = await startHarness();
    await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet] });
    const reply = await eventually(
      () => h.request("GET", "/readyz"),
      (r) => r.json().esl === "connected",
    );
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ status: "ready", store: "loaded", esl: "connected", trunks: 1, extensions: 0 });
  });
});
