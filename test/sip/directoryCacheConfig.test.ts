/** freeswitch.directoryCacheSeconds: from the stack's config to the API's settings and the answers it serves. */
import { describe, expect, it } from "vitest";
import { parseSettings } from "../../api/settings";
import { servedDocuments } from "../../bin/servedDocuments";
import { apiSettings } from "../../sip/bundle";
import { DEFAULT_DIRECTORY_CACHE_SECONDS } from "../../sip/schema";
import { buildModel } from "../../sip/stack";
import { PROD_SECRETS, problemsAfter, prodModel, prodRawConfig } from "../support/stackConfig";

const SEED = { ipv4: "46.4.96.105", ipv6: "2a01:4f8:140:829d::2" };

function withCache(value: unknown) {
  const raw = prodRawConfig();
  raw.freeswitch = { ...raw.freeswitch, directoryCacheSeconds: value };
  return buildModel(raw, { stack: "prod", secretPaths: PROD_SECRETS });
}

describe("freeswitch.directoryCacheSeconds", () => {
  it("defaults to 300 s, handed to the API, whose user answers then carry cacheable in milliseconds", () => {
    const settings = apiSettings(prodModel(), SEED);
    expect(DEFAULT_DIRECTORY_CACHE_SECONDS).toBe(300);
    expect(settings.directoryCacheSeconds).toBe(300);
    expect(parseSettings(JSON.parse(JSON.stringify(settings)), "rendered")).toEqual(settings);
    const users = servedDocuments(prodModel(), SEED).filter((d) => d.path.includes("/users/"));
    expect(users.length).toBeGreaterThan(0);
    for (const u of users) expect(u.content).toMatch(/<user id="[^"]+" cacheable="300000">/);
  });

  it("takes a value set with `pulumi config set --path` (a string), and 0 turns the cache off", () => {
    expect(apiSettings(withCache("120"), SEED).directoryCacheSeconds).toBe(120);
    const off = withCache(0);
    expect(apiSettings(off, SEED).directoryCacheSeconds).toBe(0);
    for (const d of servedDocuments(off, SEED)) expect(d.content).not.toContain("cacheable");
  });

  it.each([
    [3600, /at most 1800 seconds: FreeSWITCH's cache expiry overflows above 2147 s/],
    [-1, /0 \(no cache\) or more/],
    [1.5, /integer|int/],
  ])("refuses %s, naming the key", (value, message) => {
    const problems = problemsAfter((raw) => (raw.freeswitch = { ...raw.freeswitch, directoryCacheSeconds: value }));
    const problem = problems.find((p) => p.key === "freeswitch.directoryCacheSeconds");
    expect(problem?.message).toMatch(message);
  });

  it("is refused by the API's settings file above the bound, so a hand-edited file cannot overflow FreeSWITCH's expiry", () => {
    const settings = apiSettings(prodModel(), SEED);
    expect(() => parseSettings({ ...settings, directoryCacheSeconds: 3600 }, "config.json")).toThrow(
      /directoryCacheSeconds/,
    );
  });
});
