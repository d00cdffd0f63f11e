import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Host } from "../../components/host";
import { stackNaming } from "../../components/naming";
import { renderCloudInit } from "../../sip/bootstrap";
import { promiseOf, reveal, startMockRun, TYPES, type MockRun } from "../support/pulumiMocks";

const ADMIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA admin@example";
let run: MockRun;
let host: Host;
beforeAll(async () => {
  run = await startMockRun({ stack: "test", config: {} });
  host = new Host("host", {
    naming: stackNaming("telephony", "test"),
    environment: "staging",
    location: "hel1",
    serverType: "cx32",
    image: "debian-12",
    ipv4Id: 11,
    ipv6Id: 12,
    sshAddress: "203.0.113.10",
    firewallId: 13,
    adminSshPublicKeys: [ADMIN],
  });
  await promiseOf(host.serverId);
  await run.settle();
});

const command = (name: string) => run.ofType(TYPES.command).find((c) => c.name === name)!;

describe("Host", () => {
  it("builds one server from config on both primary IPs and the firewall", () => {
    expect(run.one(TYPES.server).inputs).toMatchObject({
      name: "telephony-test",
      serverType: "cx32",
      image: "debian-12",
      location: "hel1",
      publicNets: [{ ipv4Enabled: true, ipv4: 11, ipv6Enabled: true, ipv6: 12 }],
      firewallIds: [13],
      labels: { "managed-by": "pulumi", project: "telephony", stack: "test", environment: "staging" },
    });
  });

  it("boots from the stable cloud-init bootstrap", () => {
    expect(run.one(TYPES.server).inputs.userData).toBe(renderCloudInit());
  });

  it("injects only the stack's generated ED25519 deploy key through Hetzner", () => {
    const key = run.one(TYPES.sshKey);
    expect(run.one(TYPES.privateKey).inputs.algorithm).toBe("ED25519");
    expect(key.inputs.name).toBe("telephony-test-deploy");
    expect(key.inputs.publicKey).toBe(run.one(TYPES.privateKey).state.publicKeyOpenssh.trim());
    expect(run.one(TYPES.server).inputs.sshKeys).toEqual([key.id]);
  });

  it("waits for cloud-init on the new server before it is ready", () => {
    const wait = command("host-cloud-init");
    expect(wait.inputs.create).toContain("cloud-init status --wait");
    expect(wait.inputs.triggers).toEqual([run.one(TYPES.server).id]);
    expect(wait.dependencies.some((urn) => urn.endsWith("::host-server"))).toBe(true);
  });

  it("then writes root's authorized_keys: the deploy key first, then the admins' keys", () => {
    const keys = command("host-authorized-keys");
    const lines = (keys.inputs.stdin as string).trim().split("\n");
    expect(lines).toEqual([run.one(TYPES.privateKey).state.publicKeyOpenssh.trim(), ADMIN]);
    expect(keys.dependencies.some((urn) => urn.endsWith("::host-cloud-init"))).toBe(true);
    expect(host.ready).toBeDefined();
  });

  it("connects as root to the given address with the deploy key, which stays secret", async () => {
    const connection = reveal(command("host-cloud-init").inputs.connection);
    expect(connection).toMatchObject({ host: "203.0.113.10", user: "root" });
    expect(connection.privateKey).toBe(run.one(TYPES.privateKey).state.privateKeyOpenssh);
    expect(await pulumi.isSecret(pulumi.output(host.connection.privateKey))).toBe(true);
  });
});
