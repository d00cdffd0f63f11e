/**
 * schema/stack.schema.json, the JSON Schema an editor checks Pulumi.<stack>.yaml with as it is
 * typed: it accepts the stack files the project ships and the ones Pulumi writes (encrypted
 * secrets, other providers' keys), and refuses what the program would refuse, a misspelt key first.
 */
import Ajv2020 from "ajv/dist/2020";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { STACK_FILE_SCHEMA } from "../../bin/docs";
import { PROJECT_DIR } from "../support/environment";

const schema = JSON.parse(readFileSync(join(PROJECT_DIR, STACK_FILE_SCHEMA), "utf8"));
// Strict: a keyword ajv does not know (a typo in the generator) fails the compile. Formats (a
// URL's) are annotations here, as in most editors: the program's own schema checks them.
const ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
const validate = ajv.compile(schema);

const read = (file: string) => parse(readFileSync(join(PROJECT_DIR, file), "utf8"));
const errorsOf = (doc: unknown) =>
  validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);

/** prod's stack file, changed by `mutate`. */
function prodWith(mutate: (config: Record<string, any>) => void): unknown {
  const doc = read("Pulumi.prod.yaml");
  mutate(doc.config);
  return doc;
}

const SECURE = { secure: "v1:6T3uNhFpmrM=:v1:Y2lwaGVydGV4dA==:c2FsdA==" };

describe("the stack files' JSON Schema", () => {
  it.each([
    "Pulumi.prod.yaml",
    "Pulumi.staging.yaml",
    "test/e2e/Pulumi.e2e.yaml",
    "test/e2e/Pulumi.e2e-standby.yaml",
    "test/freeswitch/Pulumi.fstest.yaml",
  ])("accepts %s", (file) => {
    expect(errorsOf(read(file))).toEqual([]);
  });

  it("refuses a misspelt top-level key", () => {
    const errors = errorsOf(prodWith((c) => (c["telephony:maintainance"] = { drainSeconds: 60 })));
    expect(errors.join("\n")).toContain("telephony:maintainance");
  });

  it("refuses a misspelt key inside a value", () => {
    const errors = errorsOf(prodWith((c) => (c["telephony:host"].sshPublicKey = c["telephony:host"].sshPublicKeys)));
    expect(errors.join("\n")).toMatch(/\/config\/telephony:host must NOT have additional properties.*sshPublicKey"/);
  });

  it("refuses a key in the project's namespace without it, which the program would not read", () => {
    expect(errorsOf(prodWith((c) => (c.environment = "production")))).not.toEqual([]);
  });

  it("refuses values the schema refuses: a port out of range, an unknown enum value, a missing required key, an obsolete key", () => {
    expect(errorsOf(prodWith((c) => (c["telephony:profiles"].internal.sipPort = 70000)))).not.toEqual([]);
    expect(errorsOf(prodWith((c) => (c["telephony:profiles"].internal.bind = "ipv6")))).not.toEqual([]);
    expect(errorsOf(prodWith((c) => delete c["telephony:trunks"]))).not.toEqual([]);
    expect(errorsOf(prodWith((c) => (c["telephony:tls"].clientImage = "neilpang/acme.sh")))).not.toEqual([]);
  });

  it("accepts the keys Pulumi writes into a stack file and other providers' config", () => {
    const doc = prodWith((c) => {
      c["hcloud:token"] = SECURE;
      c["command:anything"] = { it: "is theirs" };
    }) as Record<string, unknown>;
    Object.assign(doc, { secretsprovider: "passphrase", encryptionsalt: "v1:c2FsdA==:v1:abc:def" });
    expect(errorsOf(doc)).toEqual([]);
  });

  it("accepts the secrets encrypted value by value (--secret --path) or as a whole, and in plain text", () => {
    const byPath = prodWith(
      (c) =>
        (c["telephony:secrets"] = { trunkPasswords: { oneandone: SECURE }, dnsToken: SECURE, signalwireToken: SECURE }),
    );
    expect(errorsOf(byPath)).toEqual([]);
    expect(errorsOf(prodWith((c) => (c["telephony:secrets"] = SECURE)))).toEqual([]);
    expect(errorsOf(prodWith((c) => (c["telephony:secrets"] = { trunkPasswords: { oneandone: "plain" } })))).toEqual(
      [],
    );
    expect(errorsOf(prodWith((c) => (c["telephony:secrets"] = { trunkPassword: { oneandone: SECURE } })))).not.toEqual(
      [],
    );
  });

  it("accepts an encrypted value only where a secret belongs", () => {
    expect(errorsOf(prodWith((c) => (c["telephony:host"].hostname = SECURE)))).not.toEqual([]);
    expect(errorsOf(prodWith((c) => (c["telephony:dns"] = SECURE)))).not.toEqual([]);
  });

  it("accepts a coerced number as `pulumi config set --path` writes it, a string of digits", () => {
    expect(errorsOf(prodWith((c) => (c["telephony:maintenance"] = { drainSeconds: "120" })))).toEqual([]);
    expect(errorsOf(prodWith((c) => (c["telephony:maintenance"] = { drainSeconds: "soon" })))).not.toEqual([]);
  });
});
