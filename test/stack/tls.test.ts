/**
 * TLS on Pulumi's mock runtime: the ACME path (prod) and the self-signed path, the
 * resources each creates, the private key never outside a secret, the renewal wired to the reload.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseFilesPayload } from "../../sip/deploy";
import { ACME_PATHS } from "../../sip/hostLayout";
import { isSecretValue, reveal, TYPES, type RegisteredResource } from "../support/pulumiMocks";
import { buildStack, prodConfig, TEST_SECRETS, type StackRun } from "../support/mockedStack";

let acme: StackRun;
let selfSigned: StackRun;
beforeAll(async () => {
  acme = await buildStack("prod", prodConfig());
  selfSigned = await buildStack(
    "prod",
    prodConfig((c) => {
      c["telephony:tls"] = { mode: "self-signed" };
      delete c["telephony:dns"];
    }),
  );
}, 60_000);

const named = (run: StackRun, name: string): RegisteredResource | undefined =>
  run.run.resources.find((r) => r.name === name);
/** Decodes a files-<group> command's stdin payload into path → content. */
function payload(run: StackRun, group: string): Record<string, string> {
  const text = reveal(named(run, `files-${group}`)!.inputs.stdin) as string;
  return Object.fromEntries(parseFilesPayload(text).map((f) => [f.path, f.content]));
}
const leaksOutsideSecrets = (run: StackRun, needle: string): string[] => {
  const leaks: string[] = [];
  const scan = (where: string, value: unknown) => {
    if (isSecretValue(value)) return;
    if (typeof value === "string" && value.includes(needle)) leaks.push(where);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) scan(`${where}.${k}`, v);
  };
  for (const r of run.run.resources) scan(r.name, r.inputs);
  return leaks;
};

describe("ACME (a host name and a DNS zone)", () => {
  it("pushes the renewal job, timer and token as one secret group, and runs it once before FreeSWITCH starts", () => {
    const group = named(acme, "files-acme")!;
    expect(isSecretValue(group.inputs.stdin)).toBe(true);
    expect(Object.keys(payload(acme, "acme")).sort()).toEqual(
      [ACME_PATHS.dnsHook, ACME_PATHS.env, ACME_PATHS.script, ACME_PATHS.service, ACME_PATHS.timer].sort(),
    );
    expect(reveal(group.inputs.create)).toMatch(
      /apt-get .*install -y -q lego[\s\S]*systemctl enable --now telephony-acme.timer/,
    );
    const issue = named(acme, "tls-first-issue")!;
    expect(issue.inputs.create).toBe(`bash ${ACME_PATHS.script}`);
    expect(issue.dependencies.some((u) => u.endsWith("::files-acme"))).toBe(true);
    expect(named(acme, "freeswitch-container")!.dependencies.some((u) => u.endsWith("::tls-first-issue"))).toBe(true);
  });

  it("wires the renewal to a restart of the TLS profile, only when the certificate changed", () => {
    const script = payload(acme, "acme")[ACME_PATHS.script];
    expect(script).toMatch(/if cmp -s "\$new" .*agent\.pem; then .*exit 0; fi[\s\S]*sofia profile internal restart/);
  });

  it("keeps the DNS token inside secrets only, and makes no certificate of its own", () => {
    expect(payload(acme, "acme")[ACME_PATHS.env]).toBe(`HETZNER_TOKEN=${TEST_SECRETS.dnsToken}\n`);
    expect(leaksOutsideSecrets(acme, TEST_SECRETS.dnsToken)).toEqual([]);
    expect(acme.run.ofType(TYPES.selfSignedCert)).toHaveLength(0);
    expect(acme.outputs.tlsWarning).toBeNull();
  });
});

describe("self-signed (no ACME)", () => {
  it("creates a key and a certificate for the server's real addresses, and warns loudly", () => {
    const cert = selfSigned.run.one(TYPES.selfSignedCert);
    const ipv4 = selfSigned.run.ofType(TYPES.primaryIp).find((r) => r.inputs.type === "ipv4")!.state.ipAddress;
    expect(reveal(cert.inputs.ipAddresses)).toEqual([ipv4, selfSigned.outputs.ipv6]);
    expect(
      selfSigned.run
        .ofType(TYPES.privateKey)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["host-deploy-key", "tls-key"]);
    expect(selfSigned.outputs.tlsWarning).toMatch(/SELF-SIGNED.*browsers refuse/);
    expect(named(selfSigned, "tls-first-issue")).toBeUndefined();
  });

  it("pushes agent.pem and wss.pem as a secret group that restarts the TLS profile", () => {
    const group = named(selfSigned, "files-tls")!;
    expect(isSecretValue(group.inputs.stdin)).toBe(true);
    const files = payload(selfSigned, "tls");
    const key = selfSigned.run.ofType(TYPES.privateKey).find((r) => r.name === "tls-key")!.state
      .privateKeyPem as string;
    for (const name of ["agent.pem", "wss.pem"])
      expect(files[`/srv/telephony/freeswitch/conf/tls/${name}`]).toContain(key);
    expect(reveal(group.inputs.create)).toContain("sofia profile internal restart");
  });

  it("never lets the private key outside a secret", () => {
    const key = selfSigned.run.ofType(TYPES.privateKey).find((r) => r.name === "tls-key")!.state
      .privateKeyPem as string;
    expect(key).toContain("PRIVATE KEY");
    expect(leaksOutsideSecrets(selfSigned, key.split("\n")[1])).toEqual([]);
    expect(JSON.stringify(selfSigned.outputs)).not.toContain("PRIVATE KEY");
  });
});
