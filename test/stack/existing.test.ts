/**
 * host.provider existing (bring your own server) on Pulumi's mock runtime: nothing is created at
 * Hetzner (only DNS records when a zone is configured), every host step connects to the configured
 * machine with the configured key, and the checks name what is missing.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { renderStackToDir } from "../../bin/render";
import { beforeAll, describe, expect, it } from "vitest";
import { renderBootstrapScript } from "../../sip/bootstrap";
import { PROD_SECRETS, problemsAfter } from "../support/stackConfig";
import { promiseOf, reveal, TYPES } from "../support/pulumiMocks";
import { buildStack, prodConfig, TEST_SECRETS, type StackRun } from "../support/mockedStack";

const MACHINE = { ipv4: "203.0.113.10", ipv6: "2001:db8:10::10", sshAddress: "198.51.100.10", sshPort: 2222 };
const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nexisting-host-test-key-5d1e\n-----END OPENSSH PRIVATE KEY-----\n";

const existingConfig = (withDns: boolean) =>
  prodConfig((c) => {
    c["telephony:host"] = { ...c["telephony:host"], provider: "existing", existing: MACHINE };
    c["telephony:secrets"] = { ...TEST_SECRETS, sshPrivateKey: PRIVATE_KEY };
    if (!withDns) {
      delete c["telephony:dns"];
      c["telephony:tls"] = { ...c["telephony:tls"], challenge: "http-01" };
    }
  });

let plain: StackRun;
let withDns: StackRun;
beforeAll(async () => {
  plain = await buildStack("prod", existingConfig(false));
  withDns = await buildStack("prod", existingConfig(true));
}, 60_000);

const hcloudTypes = (s: StackRun) => [
  ...new Set(s.run.resources.filter((r) => r.type.startsWith("hcloud:")).map((r) => r.type)),
];
const commands = (s: StackRun) => s.run.resources.filter((r) => r.type === TYPES.command || r.type === TYPES.copy);
const named = (s: StackRun, name: string) => s.run.resources.find((r) => r.name === name)!;

describe("host.provider existing", () => {
  it("registers no Hetzner resource: no server, primary IP, firewall or SSH key", () => {
    expect(hcloudTypes(plain)).toEqual([]);
  });

  it("keeps DNS: with a zone, its records are the only Hetzner resources", () => {
    expect(hcloudTypes(withDns)).toEqual([TYPES.rrset]);
    const values = withDns.run
      .ofType(TYPES.rrset)
      .flatMap((r) => (r.inputs.records ?? []).map((x: { value: string }) => x.value));
    expect(values).toEqual(expect.arrayContaining([MACHINE.ipv4, MACHINE.ipv6]));
  });

  it("renders the configured addresses into the profiles and the outputs", async () => {
    expect(plain.outputs.ipv4).toBe(MACHINE.ipv4);
    expect(plain.outputs.ipv6).toBe(MACHINE.ipv6);
    expect(plain.outputs.firewall).toBeNull();
    const profile = await promiseOf(
      plain.telephony.files.find((f) => f.path.endsWith("sip_profiles/external-ipv4.xml"))!.content,
    );
    expect(profile).toContain(`value="${MACHINE.ipv4}"`);
  });

  it("connects every host step to the configured machine and port as root, with the configured key as a secret", () => {
    for (const step of commands(plain)) {
      const connection = step.inputs.connection;
      expect(reveal(connection)).toMatchObject({
        host: MACHINE.sshAddress,
        port: MACHINE.sshPort,
        user: "root",
        privateKey: PRIVATE_KEY,
      });
    }
    expect(commands(plain).length).toBeGreaterThan(10);
  });

  it("keeps the key secret and the address plain", async () => {
    const { connection } = plain.telephony.host;
    expect(await pulumi.isSecret(pulumi.output(connection.privateKey))).toBe(true);
    expect(await pulumi.isSecret(pulumi.output(connection.host))).toBe(false);
  });

  it("bootstraps first (Docker, UFW, fail2ban, installing only what is missing), then writes the keys, then deploys", () => {
    const bootstrap = named(plain, "host-bootstrap");
    expect(bootstrap.inputs.create).toBe(renderBootstrapScript());
    for (const pkg of ["docker.io", "ufw", "fail2ban", "curl"]) expect(bootstrap.inputs.create).toContain(pkg);
    expect(named(plain, "host-stack-removal").dependencies.some((urn) => urn.endsWith("::host-bootstrap"))).toBe(true);
    expect(named(plain, "files-acl").dependencies.some((urn) => urn.endsWith("::host-authorized-keys"))).toBe(true);
  });

  it("re-runs an edited bootstrap in place, and removes what the stack put on the machine when destroyed", () => {
    const bootstrap = named(plain, "host-bootstrap");
    expect(bootstrap.inputs.update).toBe(bootstrap.inputs.create);
    expect(bootstrap.inputs.delete).toBeUndefined();
    // Destroyed after every host step (they all come after it), and never replaced by a recovery.
    const removal = named(plain, "host-stack-removal");
    expect(removal.inputs.triggers).toBeUndefined();
    expect(named(plain, "host-authorized-keys").dependencies.some((urn) => urn.endsWith("::host-stack-removal"))).toBe(
      true,
    );
    const cleanup = removal.inputs.delete as string;
    const removed = /^rm -rf (.*)$/m.exec(cleanup)![1].split(" ");
    // Everything the stack wrote: its tree, the host ID, and each pushed file outside the tree.
    expect(removed).toEqual(
      expect.arrayContaining([
        "/srv/telephony",
        "/var/lib/telephony/host-id",
        "/etc/fail2ban/filter.d/freeswitch-telephony.conf",
        "/etc/fail2ban/jail.d/freeswitch-telephony.conf",
        "/etc/docker/daemon.json",
      ]),
    );
    expect(cleanup).toContain("docker rm -f telephony-config-api telephony-freeswitch");
    expect(cleanup).not.toContain("authorized_keys");
  });

  it("keeps the deploy key first in authorized_keys, then the admins' keys", async () => {
    const keys = String(reveal(named(plain, "host-authorized-keys").inputs.stdin))
      .trim()
      .split("\n");
    expect(keys[0]).toMatch(/^ssh-ed25519 /);
    expect(keys.slice(1)).toEqual(plain.telephony.model.host.sshPublicKeys.map((k) => k.trim()));
  });

  it("re-runs every host step on a new host ID (the bootstrap's answer)", async () => {
    const serverId = await promiseOf(plain.telephony.host.serverId);
    for (const name of ["files-acl", "config-api-container", "freeswitch-container", "config-api-sync-trunks"]) {
      expect(reveal(named(plain, name).inputs.triggers)).toContain(serverId);
    }
  });
});

describe("host.provider existing: checks", () => {
  const withKey = new Set([...PROD_SECRETS, "sshPrivateKey"]);
  const existing =
    (extra: Record<string, unknown> = {}) =>
    (raw: Record<string, any>) => {
      raw.host = { ...raw.host, provider: "existing", existing: MACHINE, ...extra };
    };

  it("accepts a complete machine", () => {
    expect(problemsAfter(existing(), withKey)).toEqual([]);
  });

  it("needs the machine's addresses", () => {
    expect(
      problemsAfter((raw) => (raw.host = { ...raw.host, provider: "existing" }), withKey).map((p) => p.key),
    ).toEqual(["host.existing"]);
  });

  it("needs the private key, and says how to set it", () => {
    const [p] = problemsAfter(existing());
    expect(p.key).toBe("secrets.sshPrivateKey");
    expect(p.fix).toContain("pulumi config set --secret --path 'telephony:secrets.sshPrivateKey'");
  });

  it("refuses addresses of the wrong family and Hetzner-only keys", () => {
    const problems = problemsAfter(
      existing({ existing: { ...MACHINE, ipv4: MACHINE.ipv6 }, existingPrimaryIpIds: { ipv4: "1" } }),
      withKey,
    );
    expect(problems.map((p) => p.key)).toEqual(["host.existing.ipv4", "host.existingPrimaryIpIds"]);
  });

  it("refuses host.existing on a Hetzner stack", () => {
    expect(problemsAfter((raw) => (raw.host = { ...raw.host, existing: MACHINE })).map((p) => p.key)).toEqual([
      "host.existing",
    ]);
  });
});

describe("host.provider existing: npm start", () => {
  it("renders with the machine's addresses from host.existing, and says so", () => {
    const out = mkdtempSync(join(tmpdir(), "render-existing-"));
    const { outDir, summary } = renderStackToDir(join(__dirname, "..", "e2e"), "e2e", out);
    expect(
      readFileSync(join(outDir, "srv/telephony/freeswitch/conf/sip_profiles/external-ipv4.xml"), "utf8"),
    ).toContain('value="198.51.100.10"');
    expect(summary).toContain("host.existing");
    rmSync(out, { recursive: true, force: true });
  });
});
