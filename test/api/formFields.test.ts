import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DIRECTORY_FIELDS, DirectoryAnswers } from "../../api/directory";
import { FormFieldPicker } from "../../api/formFields";

const NAMES = new Set([
  "section",
  "purpose",
  "profile",
  "user",
  "key",
  "domain",
  "key_value",
  "tag_name",
  "key_name",
  "action",
]);

const pick = (body: string, names: ReadonlySet<string> = NAMES) =>
  new FormFieldPicker(names).pick(Buffer.from(body, "utf8"));

/** What URLSearchParams says for each name: the parser must say exactly the same. */
const expectSameAsURLSearchParams = (body: string, names: ReadonlySet<string> = NAMES) => {
  const reference = new URLSearchParams(body);
  const picked = pick(body, names);
  for (const name of names) expect(picked.get(name), `${name} in ${JSON.stringify(body)}`).toBe(reference.get(name));
};

describe("FormFieldPicker (the xml_curl form parser)", () => {
  it("reads mod_xml_curl's gateway request", () => {
    const body = new URLSearchParams({
      hostname: "fs",
      section: "directory",
      tag_name: "",
      key_name: "",
      key_value: "",
      "Event-Date-Local": "2025-01-01 00:00:00",
      "FreeSWITCH-IPv6": "::1",
      purpose: "gateways",
      profile: "internal",
    }).toString();
    const form = pick(body);
    expect(form.get("section")).toBe("directory");
    expect(form.get("purpose")).toBe("gateways");
    expect(form.get("profile")).toBe("internal");
    expect(form.get("key_value")).toBe("");
    expect(form.get("user")).toBeNull();
    expectSameAsURLSearchParams(body);
  });

  it("decodes '+' as a space and percent-escapes as UTF-8, in values and in keys", () => {
    const form = pick("user=J%C3%BCrgen+M%2B&sec%74ion=dir+ectory&domain=a%2Bb+c");
    expect(form.get("user")).toBe("Jürgen M+");
    expect(form.get("section")).toBe("dir ectory");
    expect(form.get("domain")).toBe("a+b c");
  });

  it("keeps the first of repeated keys, also when the first is empty or spelled encoded", () => {
    expect(pick("user=1001&user=1002").get("user")).toBe("1001");
    expect(pick("user=&user=1002").get("user")).toBe("");
    expect(pick("us%65r=1001&user=1002").get("user")).toBe("1001");
    expectSameAsURLSearchParams("user=1001&user=1002&us%65r=1003");
  });

  it("treats empty values, pairs without '=', empty pairs and missing keys as URLSearchParams does", () => {
    for (const body of [
      "",
      "&",
      "&&user&&",
      "user",
      "user=",
      "=1001",
      "user==1001",
      "section=a=b",
      "key_value=&domain",
      "hostname=x&",
      "&profile=internal",
    ]) {
      expectSameAsURLSearchParams(body);
    }
    expect(pick("user&domain=").get("user")).toBe("");
    expect(pick("hostname=x").get("user")).toBeNull();
  });

  it("leaves malformed percent-escapes as URLSearchParams does (no throw)", () => {
    for (const body of [
      "user=%",
      "user=%zz",
      "user=100%",
      "user=%4",
      "user=%C3",
      "user=%FF%FE",
      "user=%E2%82",
      "user=a%2",
      "us%er=1",
      "user=%%41",
      "user=%C3%28+x",
    ]) {
      expectSameAsURLSearchParams(body);
    }
  });

  it("answers like URLSearchParams for random bodies made of the characters that matter", () => {
    // Lone surrogates too: URLSearchParams replaces them, UTF-8 encoding the body does the same.
    const alphabet = [
      "&",
      "=",
      "+",
      "%",
      "%2",
      "%41",
      "%e",
      "%C3",
      "%C3%BC",
      "%FF",
      "%E2%82%AC",
      "%2B",
      "%26",
      "%3D",
      "a",
      "ü",
      "😀",
      "\ud800",
      "user",
      "section",
      "key",
      "domain",
      "us%65r",
      " ",
    ];
    for (let round = 0; round < 5000; round++) {
      const bytes = randomBytes(1 + (round % 24));
      const body = [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
      expectSameAsURLSearchParams(body);
    }
  });

  it("answers like URLSearchParams for random forms whose keys are plain, as mod_xml_curl's are", () => {
    // The picker's fast path (names found where they stand) runs only for these; the same name
    // inside a value, as a prefix of a longer key, or repeated must not fool it.
    const keys = [
      "user",
      "section",
      "key",
      "key_value",
      "domain",
      "users",
      "xuser",
      "Event-Name",
      "",
      "pro",
      "profile",
    ];
    const values = ["", "1001", "user", "user=1", "a+b", "%41", "%", "%2", "ü", "%C3%BC", "section", "+", "="];
    for (let round = 0; round < 5000; round++) {
      const bytes = randomBytes(2 * (1 + (round % 12)));
      const pairs: string[] = [];
      for (let i = 0; i < bytes.length; i += 2) {
        const key = keys[bytes[i] % keys.length];
        pairs.push(bytes[i + 1] % 7 === 0 ? key : `${key}=${values[bytes[i + 1] % values.length]}`);
      }
      expectSameAsURLSearchParams(pairs.join("&"));
    }
  });

  it("refuses names it could not compare in place", () => {
    for (const name of ["a+b", "a%20", "a=b", "a&b"]) expect(() => new FormFieldPicker([name])).toThrow(/not plain/);
  });

  it("only decodes the named fields", () => {
    const form = pick("hostname=fs&user=1001", new Set(["user"]));
    expect(form.get("user")).toBe("1001");
    expect(form.get("hostname")).toBeNull();
  });
});

describe("DIRECTORY_FIELDS", () => {
  it("lists every field DirectoryAnswers.answer reads", () => {
    const directory = new DirectoryAnswers("sip.example.net", ["internal"]);
    directory.rebuild([], []);
    const read = new Set<string>();
    // A form that says yes to every field drives answer() down each branch in turn.
    const forms: Record<string, string>[] = [
      { section: "directory", purpose: "gateways", profile: "internal" },
      { section: "directory", user: "1001", key: "id", domain: "sip.example.net" },
      { section: "directory", user: "1001", key_value: "sip.example.net" },
      { section: "directory", user: "1001", key: "number-alias" },
      { section: "configuration" },
    ];
    for (const fields of forms) directory.answer({ get: (name: string) => (read.add(name), fields[name] ?? null) });
    expect([...read].filter((name) => !DIRECTORY_FIELDS.has(name))).toEqual([]);
  });
});
