/**
 * FreeSWITCH's user cache: what the API marks cacheable, and that every change which alters or
 * removes a cacheable answer is flushed over ESL (exactly those users) before the PUT answers;
 * when the flush cannot happen the change is not reported done and the flush stays owed.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { FLUSH_ALL_COMMAND, flushUserCommand, UserCacheFlusher } from "../../api/userCache";
import { renderNotFound, renderUserDirectory } from "../../sip/directory";
import { DEFAULT_DIRECTORY_CACHE_SECONDS } from "../../sip/schema";
import { alice, bob, plusnet } from "../support/apiFixtures";
import { startFakeFreeswitch } from "../support/fakeFreeswitch";
import { DOMAIN, sipAuthRequest, startHarness, xmlCurlForm, type Harness } from "../support/loopbackApi";
import { eventually } from "../support/waitFor";

const CACHE_MS = DEFAULT_DIRECTORY_CACHE_SECONDS * 1000;
const carol = { ...bob, id: "1003", displayName: "Carol", password: "carol-sip-secret" };

describe("FreeSWITCH's user cache (cacheable answers, xml_flush_cache)", () => {
  let h: Harness;
  afterEach(() => h.close());

  const putExtensions = (body: unknown) =>
    h.request("PUT", "/api/v1/sip/extensions", { token: h.secrets.adminToken, body });
  /** ESL commands since `mark()`. */
  const recorder = () => {
    const offset = h.freeswitch.commands.length;
    return () => h.freeswitch.commands.slice(offset);
  };
  const owedOnDisk = (): string[] => JSON.parse(readFileSync(h.settings.storePath, "utf8")).pendingFlushes;
  const connected = async () => {
    // The connect's whole-cache flush and the profile rescans.
    await h.freeswitch.waitForCommands(3);
    await eventually(
      async () => (await h.request("GET", "/readyz")).json().esl,
      (s) => s === "connected",
    );
  };

  it("marks a user answer for the configured domain cacheable for directoryCacheSeconds", async () => {
    h = await startHarness();
    await putExtensions([alice]);
    const reply = await h.xmlCurl(sipAuthRequest("1001"));
    expect(reply.body).toBe(renderUserDirectory(DOMAIN, alice, CACHE_MS));
    expect(reply.body).toContain(`<user id="1001" cacheable="${CACHE_MS}">`);
  });

  it("answers another spelling of the domain uncached: FreeSWITCH would cache it under a key no flush names", async () => {
    h = await startHarness();
    await putExtensions([alice]);
    const reply = await h.xmlCurl(sipAuthRequest("1001", DOMAIN.toUpperCase()));
    expect(reply.body).toBe(renderUserDirectory(DOMAIN, alice));
    expect(reply.body).not.toContain("cacheable");
  });

  it("never marks a not-found answer cacheable (unknown user, other domain)", async () => {
    h = await startHarness();
    await putExtensions([alice]);
    for (const form of [
      sipAuthRequest("9999"),
      sipAuthRequest("1001", "evil.example.org"),
      xmlCurlForm({ key: "number-alias", user: "1001", domain: DOMAIN }),
    ]) {
      const reply = await h.xmlCurl(form);
      expect(reply.body).toBe(renderNotFound());
      expect(reply.body).not.toContain("cacheable");
    }
  });

  it("with directoryCacheSeconds 0 marks nothing cacheable and owes no flush once the connect flushed the cache", async () => {
    h = await startHarness({ directoryCacheSeconds: 0 });
    await connected();
    await putExtensions([alice, bob]);
    expect((await h.xmlCurl(sipAuthRequest("1001"))).body).toBe(renderUserDirectory(DOMAIN, alice));
    const sent = recorder();
    const reply = await putExtensions([{ ...alice, password: "alice-new-secret" }]);
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ changed: ["1001"], removed: ["1002"], flushed: [] });
    expect(sent()).toEqual([]);
  });

  it("flushes exactly the changed and removed users, not the added or unchanged ones, and says so", async () => {
    h = await startHarness();
    await connected();
    await putExtensions([alice, bob]);
    const sent = recorder();
    const reply = await putExtensions([{ ...alice, password: "alice-new-secret" }, carol]);
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({
      added: ["1003"],
      changed: ["1001"],
      removed: ["1002"],
      unchanged: [],
      flushed: ["1001", "1002"],
    });
    expect(sent()).toEqual([flushUserCommand("1001", DOMAIN), flushUserCommand("1002", DOMAIN)]);
    expect(sent()).toEqual(["xml_flush_cache id 1001 sip.example.net", "xml_flush_cache id 1002 sip.example.net"]);
    expect(owedOnDisk()).toEqual([]);
    // An unchanged set sends nothing; a trunk change touches no user (gateways are never cached).
    const after = recorder();
    expect((await putExtensions([{ ...alice, password: "alice-new-secret" }, carol])).json().flushed).toEqual([]);
    await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet] });
    expect(after().filter((c) => c.startsWith("xml_flush_cache"))).toEqual([]);
  });

  it("answers the PUT only on FreeSWITCH's confirmation: a refused flush is not reported done", async () => {
    h = await startHarness();
    await connected();
    await putExtensions([alice]);
    // mod_event_socket's words for a module that is not loaded.
    h.freeswitch.replyWith((command) =>
      command.startsWith("xml_flush_cache") ? "-ERR xml_flush_cache Command not found!\n" : "+OK\n",
    );
    const refused = await putExtensions([{ ...alice, password: "alice-new-secret" }]);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(refused.json()).toMatchObject({ changed: ["1001"], owedFlushes: ["1001"] });
    expect(refused.json().error).toMatch(/user cache still holds entries for 1001.*Command not found.*repeat this PUT/);
    expect(refused.body).not.toContain("alice-new-secret");
    expect(owedOnDisk()).toEqual(["1001"]);
    // The new answer is served meanwhile: a lookup FreeSWITCH does not answer from its cache gets it.
    expect((await h.xmlCurl(sipAuthRequest("1001"))).body).toContain('value="alice-new-secret"');

    // The same PUT again, once FreeSWITCH accepts: nothing changed, but the owed flush goes and it is done.
    h.freeswitch.replyWith(() => "+OK cleared 1 entry\n");
    const sent = recorder();
    const retried = await putExtensions([{ ...alice, password: "alice-new-secret" }]);
    expect(retried.status).toBe(200);
    expect(retried.json()).toEqual({ added: [], changed: [], removed: [], unchanged: ["1001"], flushed: ["1001"] });
    expect(sent()).toEqual([flushUserCommand("1001", DOMAIN)]);
    expect(owedOnDisk()).toEqual([]);
  });

  it("with ESL down answers 503 and keeps the flush owed across a restart; the next connect flushes the whole cache", async () => {
    h = await startHarness();
    await connected();
    await putExtensions([alice, bob]);
    const port = h.freeswitch.port;
    await h.freeswitch.close();
    await eventually(
      async () => (await h.request("GET", "/readyz")).json().esl,
      (s) => s !== "connected",
    );

    const down = await putExtensions([alice]);
    expect(down.status).toBe(503);
    expect(down.json()).toMatchObject({ removed: ["1002"], owedFlushes: ["1002"] });
    expect(down.json().error).toMatch(/up to 300 s/);
    // Bob is gone for every lookup FreeSWITCH sends.
    expect((await h.xmlCurl(sipAuthRequest("1002"))).body).toBe(renderNotFound());
    // Repeating it while FreeSWITCH is still away is still not done.
    expect((await putExtensions([alice])).status).toBe(503);
    expect(owedOnDisk()).toEqual(["1002"]);

    await h.restart();
    const back = await startFakeFreeswitch(h.secrets.eslPassword, port);
    try {
      expect((await back.waitForCommands(1))[0]).toBe(FLUSH_ALL_COMMAND);
      await eventually(
        () => owedOnDisk(),
        (owed) => owed.length === 0,
      );
      expect(owedOnDisk()).toEqual([]);
      const done = await putExtensions([alice]);
      expect(done.status).toBe(200);
      expect(done.json()).toEqual({ added: [], changed: [], removed: [], unchanged: ["1001"], flushed: [] });
    } finally {
      await back.close();
    }
  });
});

describe("UserCacheFlusher: a flush comes after FreeSWITCH has cached the last old answer", () => {
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const setup = () => {
    const events: string[] = [];
    let owed = ["1001"];
    const flusher = new UserCacheFlusher(
      { api: async (command) => (events.push(`api ${command}`), "+OK cleared 1 entry\n") },
      DOMAIN,
      logger,
      { get: () => owed, remove: async (ids) => void (owed = owed.filter((id) => !ids.includes(id))) },
      { settleMs: 1000, sleep: async (ms) => void events.push(`sleep ${ms > 0 && ms <= 1000 ? "within settle" : ms}`) },
    );
    return { events, flusher, owed: () => owed };
  };

  it("waits out the settle time when an old answer went out just before the change", async () => {
    const { events, flusher, owed } = setup();
    flusher.owe(["1001"], performance.now());
    expect(await flusher.flushOwed()).toEqual({ status: "flushed", users: ["1001"] });
    expect(events).toEqual(["sleep within settle", `api ${flushUserCommand("1001", DOMAIN)}`]);
    expect(owed()).toEqual([]);
  });

  it("flushes at once when no cacheable answer for the user went out recently", async () => {
    const { events, flusher } = setup();
    flusher.owe(["1001"], -Infinity);
    await flusher.flushOwed();
    expect(events).toEqual([`api ${flushUserCommand("1001", DOMAIN)}`]);
  });

  it("does not settle a flush owed by a change made while the connect's whole-cache flush was under way", async () => {
    const events: string[] = [];
    let owed = ["1001"];
    const flusher: UserCacheFlusher = new UserCacheFlusher(
      {
        api: async (command) => {
          events.push(command);
          // A PUT changes 1001 again while FreeSWITCH runs the whole-cache flush.
          if (command === FLUSH_ALL_COMMAND) flusher.owe(["1001"], -Infinity);
          return "+OK cleared 3 entries\n";
        },
      },
      DOMAIN,
      logger,
      { get: () => owed, remove: async (ids) => void (owed = owed.filter((id) => !ids.includes(id))) },
      { settleMs: 0 },
    );
    await flusher.resync();
    expect(owed).toEqual(["1001"]);
    expect(flusher.flushedAllSinceStart).toBe(true);
  });
});
