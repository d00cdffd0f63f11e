import { describe, expect, it } from "vitest";
import { BasicCredentials } from "../../api/auth";

const basic = (userAndPassword: string, scheme = "Basic") =>
  `${scheme} ${Buffer.from(userAndPassword, "utf8").toString("base64")}`;

describe("BasicCredentials (xml_curl's basic auth)", () => {
  const credentials = new BasicCredentials("freeswitch", "s3cret-pässword");

  it("accepts the header as curl builds it", () => {
    expect(credentials.accepts(basic("freeswitch:s3cret-pässword"))).toBe(true);
  });

  it("accepts other spellings of the same credentials", () => {
    expect(credentials.accepts(basic("freeswitch:s3cret-pässword", "basic"))).toBe(true);
    expect(credentials.accepts(basic("freeswitch:s3cret-pässword", "BASIC  ") + "  ")).toBe(true);
  });

  it("rejects wrong credentials, also when the header has the right length", () => {
    const right = basic("freeswitch:s3cret-pässword");
    const sameLength = basic("freeswitch:s3cret-pässwore");
    expect(sameLength.length).toBe(right.length);
    expect(credentials.accepts(sameLength)).toBe(false);
    expect(credentials.accepts(basic("freeswitch:s3cret-pässword-and-more"))).toBe(false);
    expect(credentials.accepts(basic("freeswitch:s3cret"))).toBe(false);
    expect(credentials.accepts(basic("freeswitcH:s3cret-pässword"))).toBe(false);
    expect(credentials.accepts(basic("freeswitch"))).toBe(false);
  });

  it("rejects absent, empty, malformed and non-basic headers", () => {
    for (const header of [
      undefined,
      "",
      "Basic",
      "Basic ",
      "Basic !!!",
      `Bearer ${Buffer.from("freeswitch:s3cret-pässword").toString("base64")}`,
      "\u0000".repeat(40),
    ]) {
      expect(credentials.accepts(header)).toBe(false);
    }
    // Headers of another length are compared with a decoy: neither the decoy itself, nor the
    // right header repeated, nor a prefix of it may pass for it.
    const right = basic("freeswitch:s3cret-pässword");
    expect(credentials.accepts("\u0000".repeat(right.length))).toBe(false);
    expect(credentials.accepts(right + right)).toBe(false);
    expect(credentials.accepts(right.slice(0, 6))).toBe(false);
    expect(credentials.accepts(right.slice(0, -1))).toBe(false);
  });
});
