import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSealer } from "../../api/sealer";
import { alice, bob, einsUndEins, plusnet } from "../support/apiFixtures";
import { gatewaysRequest, newFernetKey, sipAuthRequest, startHarness, type Harness } from "../support/loopbackApi";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe("the durable store", () => {
  let h: Harness;
  afterEach(() => h.close());

  const putAll = async () => {
    expect(
      (await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet, einsUndEins] }))
        .status,
    ).toBe(200);
    expect(
      (await h.request("PUT", "/api/v1/sip/extensions", { token: h.secrets.adminToken, body: [alice, bob] })).status,
    ).toBe(200);
  };

  it("survives a restart: the new process serves the same gateways and users", async () => {
    h = await startHarness();
    await putAll();
    const before = [
      (await h.xmlCurl(gatewaysRequest("internal"))).body,
      (await h.xmlCurl(sipAuthRequest("1001"))).body,
    ];
    await h.restart();
    const after = [(await h.xmlCurl(gatewaysRequest("internal"))).body, (await h.xmlCurl(sipAuthRequest("1001"))).body];
    expect(after).toEqual(before);
    expect(after[0]).toContain("trunk-secret-1und1");
  });

  it("keeps the last committed state when the process is killed mid-write, and clears the leftover temp file", async () => {
    h = await startHarness();
    await putAll();
    await h.stop();

    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", join(__dirname, "crashMidWrite.ts"), h.settings.storePath, h.secrets.fernetKey],
      {
        encoding: "utf8",
        timeout: 20_000,
      },
    );
    expect(child.signal, child.stderr).toBe("SIGKILL");
    const dataDir = join(h.dir, "data");
    const leftovers = (await fs.readdir(dataDir)).filter((n) => n !== "store.json");
    expect(leftovers).toHaveLength(1);
    // The interrupted write had reached disk in full; only the rename was missing.
    expect(await fs.readFile(join(dataDir, leftovers[0]), "utf8")).toContain("plusnet-new");

    await h.start();
    const gateways = (await h.xmlCurl(gatewaysRequest("external-ipv4"))).body;
    expect(gateways).toContain('<gateway name="plusnet">');
    expect(gateways).not.toContain("plusnet-new");
    expect(await fs.readdir(dataDir)).toEqual(["store.json"]);
    expect(h.logs.join("\n")).toContain("removed temporary store files left by an interrupted write");
  });

  it("never writes a SIP password in plaintext: every file on disk holds only Fernet tokens", async () => {
    h = await startHarness();
    await putAll();
    const passwords = [einsUndEins.password!, alice.password, bob.password];
    for (const file of await filesUnder(join(h.dir, "data"))) {
      const content = await fs.readFile(file, "utf8");
      for (const password of passwords) {
        expect(content).not.toContain(password);
        expect(content).not.toContain(Buffer.from(password).toString("base64"));
      }
    }
    const stored = JSON.parse(await fs.readFile(h.settings.storePath, "utf8"));
    const sealer = createSealer(h.secrets.fernetKey);
    expect(stored.trunks.find((t: { name: string }) => t.name === "einsundeins").password).toBeUndefined();
    expect(sealer.open(stored.trunks.find((t: { name: string }) => t.name === "einsundeins").passwordSealed)).toBe(
      einsUndEins.password,
    );
    expect(stored.extensions.map((e: { passwordSealed: string }) => sealer.open(e.passwordSealed))).toEqual([
      alice.password,
      bob.password,
    ]);
    expect((await fs.stat(h.settings.storePath)).mode & 0o777).toBe(0o600);
  });

  it("refuses to start on a store sealed with another fernet_key, naming the cause", async () => {
    h = await startHarness();
    await putAll();
    await h.stop();
    (h.secrets as { fernetKey: string }).fernetKey = newFernetKey();
    await expect(h.start()).rejects.toThrow(/no key in fernet_key opens it .*telephony:rotation\.apiStoreEncryption/);
  });

  it("survives a Fernet key rotation: with the new key first and the previous one after it, it serves every password and re-seals the store with the new key", async () => {
    h = await startHarness();
    await putAll();
    const before = [
      (await h.xmlCurl(gatewaysRequest("internal"))).body,
      (await h.xmlCurl(sipAuthRequest("1001"))).body,
    ];
    await h.stop();
    const previous = h.secrets.fernetKey;
    const next = newFernetKey();
    (h.secrets as { fernetKey: string }).fernetKey = `${next}\n${previous}\n`;
    await h.start();
    expect([
      (await h.xmlCurl(gatewaysRequest("internal"))).body,
      (await h.xmlCurl(sipAuthRequest("1001"))).body,
    ]).toEqual(before);
    expect(h.logs.join("\n")).toContain("store re-sealed with the current fernet key");

    // Every token on disk now opens with the new key alone: the next rotation may drop the previous key.
    const stored = JSON.parse(await fs.readFile(h.settings.storePath, "utf8"));
    const tokens = [...stored.trunks, ...stored.extensions]
      .map((e: { passwordSealed?: string }) => e.passwordSealed)
      .filter(Boolean) as string[];
    expect(tokens).toHaveLength(3);
    const newOnly = createSealer(next);
    expect(tokens.map((t) => newOnly.open(t))).toEqual([einsUndEins.password, alice.password, bob.password]);
    expect(() => createSealer(previous).open(tokens[0])).toThrow();

    await h.stop();
    (h.secrets as { fernetKey: string }).fernetKey = `${newFernetKey()}\n${next}`;
    await h.start();
    expect((await h.xmlCurl(sipAuthRequest("1001"))).body).toEqual(before[1]);
  });

  it("does not rewrite a store already sealed with the current key", async () => {
    h = await startHarness();
    await putAll();
    const before = await fs.readFile(h.settings.storePath, "utf8");
    await h.stop();
    (h.secrets as { fernetKey: string }).fernetKey = `${h.secrets.fernetKey}\n${newFernetKey()}`;
    await h.start();
    expect(await fs.readFile(h.settings.storePath, "utf8")).toBe(before);
    expect(h.logs.join("\n")).not.toContain("re-sealed");
  });

  it("refuses to start on a damaged store file instead of serving an empty directory", async () => {
    h = await startHarness();
    await putAll();
    await h.stop();
    await fs.writeFile(h.settings.storePath, '{"format": "telephony-config-api/store", "trunks": [');
    await expect(h.start()).rejects.toThrow(/is not valid JSON/);
  });
});
