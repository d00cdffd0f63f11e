/**
 * The standby pair on Pulumi's mock runtime: with host.provider hetzner, two servers in one spread
 * placement group on a private network, floating IPs assigned once to the primary, every rendered
 * file naming the floating addresses; the standby's steps before the primary's, then the enable
 * steps; the floating-IP token a secret everywhere. With host.provider existing: two machines,
 * nothing at Hetzner.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { API_HA_STATE, HA_PATHS, HOST_PATHS } from "../../sip/hostLayout";
import { haEnableCommand, networkZoneOf } from "../../components/standby";
import { isSecretValue, promiseOf, reveal, TYPES, type RegisteredResource } from "../support/pulumiMocks";
import { buildStack, prodConfig, TEST_SECRETS, type StackRun } from "../support/mockedStack";

const FLOATING_TOKEN = "hetzner-floating-ip-test-token-0b7e";

const standbyConfig = (mutate?: (c: Record<string, any>) => void) =>
  prodConfig((c) => {
    c["telephony:standby"] = { enabled: true };
    c["telephony:secrets"] = { ...TEST_SECRETS, hetznerFloatingIpToken: FLOATING_TOKEN };
    mutate?.(c);
  });

const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nexisting-standby-test-key-2c4f\n-----END OPENSSH PRIVATE KEY-----\n";
const MACHINES = {
  primary: { ipv4: "198.51.100.21", ipv6: "2001:db8:21::21", sshPort: 22 },
  standby: { ipv4: "198.51.100.22", ipv6: "2001:db8:22::22", sshPort: 22 },
};
const FLOATING = { ipv4: "203.0.113.30", ipv6: "2001:db8:30::/64", ipv4Id: 4711, ipv6Id: 4712 };

const existingStandbyConfig = () =>
  standbyConfig((c) => {
    c["telephony:host"] = { ...c["telephony:host"], provider: "existing", existing: MACHINES.primary };
    c["telephony:standby"] = {
      enabled: true,
      existing: MACHINES.standby,
      floatingIps: FLOATING,
      serverIds: { primary: 1001, standby: 1002 },
    };
    c["telephony:secrets"] = { ...c["telephony:secrets"], sshPrivateKey: PRIVATE_KEY };
  });

let hetzner: StackRun;
let selfSigned: StackRun;
let existing: StackRun;
beforeAll(async () => {
  hetzner = await buildStack("prod", standbyConfig());
  selfSigned = await buildStack(
    "prod",
    standbyConfig((c) => {
      c["telephony:tls"] = { mode: "self-signed" };
    }),
  );
  existing = await buildStack("prod", existingStandbyConfig());
}, 120_000);

const named = (s: StackRun, name: string): RegisteredResource => {
  const found = s.run.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}`);
  return found;
};
const servers = (s: StackRun) => s.run.ofType(TYPES.server);
const serverNamed = (s: StackRun, name: string) => servers(s).find((r) => r.name === name)!;
const floatingAddresses = (s: StackRun) => ({ ipv4: s.outputs.ipv4 as string, ipv6: s.outputs.ipv6 as string });
/** Whether `name` was registered depending on `on` directly (dependencies are URNs, ending "<type>::<name>"). */
const dependsOn = (s: StackRun, name: string, on: string) =>
  named(s, name).dependencies.some((urn) => urn.endsWith(`${named(s, on).type}::${on}`));

/** Every file of one host with its real content (secrets revealed). */
async function hostFiles(s: StackRun, key: "primary" | "standby") {
  const files = s.telephony.standby!.hosts[key].files;
  return Promise.all(files.map(async (f) => ({ ...f, text: await promiseOf(f.content) })));
}

describe("standby with host.provider hetzner", () => {
  it("runs two servers in one spread placement group, both behind the firewall", () => {
    expect(
      servers(hetzner)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["host-server", "standby-host-server"]);
    const group = hetzner.run.one(TYPES.placementGroup);
    expect(group.inputs.type).toBe("spread");
    const firewallId = Number(hetzner.run.one(TYPES.firewall).id);
    for (const server of servers(hetzner)) {
      expect(server.inputs.placementGroupId, server.name).toBe(Number(group.id));
      expect(server.inputs.firewallIds, server.name).toEqual([firewallId]);
    }
    // Distinct physical names: Hetzner wants server names unique per project.
    expect(serverNamed(hetzner, "host-server").inputs.name).toBe("telephony-prod");
    expect(serverNamed(hetzner, "standby-host-server").inputs.name).toBe("telephony-prod-standby");
  });

  it("keeps the primary on the stack's primary IPs and the standby on Hetzner's own public addresses", () => {
    const ipIds = hetzner.run.ofType(TYPES.primaryIp).map((r) => Number(r.id));
    expect(ipIds).toHaveLength(2);
    const [primaryNets] = serverNamed(hetzner, "host-server").inputs.publicNets;
    expect([primaryNets.ipv4, primaryNets.ipv6].sort()).toEqual(ipIds.sort());
    const [standbyNets] = serverNamed(hetzner, "standby-host-server").inputs.publicNets;
    expect(standbyNets).toEqual({ ipv4Enabled: true, ipv6Enabled: true });
  });

  it("puts both servers on a private network: a cloud subnet in the location's zone, the primary on .2, the standby on .3", () => {
    const network = hetzner.run.one(TYPES.network);
    expect(network.inputs.ipRange).toBe("10.77.0.0/24");
    const subnet = hetzner.run.one(TYPES.networkSubnet);
    expect(subnet.inputs).toMatchObject({
      networkId: Number(network.id),
      type: "cloud",
      networkZone: "eu-central",
      ipRange: "10.77.0.0/24",
    });
    const byServer = Object.fromEntries(
      hetzner.run.ofType(TYPES.serverNetwork).map((r) => [r.inputs.serverId, [r.inputs.ip, r.inputs.subnetId]]),
    );
    expect(byServer).toEqual({
      [Number(serverNamed(hetzner, "host-server").id)]: ["10.77.0.2", subnet.id],
      [Number(serverNamed(hetzner, "standby-host-server").id)]: ["10.77.0.3", subnet.id],
    });
  });

  it("creates a floating IPv4 and IPv6 in the servers' location, assigned at creation to the primary and left to keepalived after", () => {
    const floating = hetzner.run.ofType(TYPES.floatingIp);
    expect(floating.map((r) => r.inputs.type).sort()).toEqual(["ipv4", "ipv6"]);
    const primaryId = Number(serverNamed(hetzner, "host-server").id);
    for (const ip of floating) {
      expect(ip.inputs.serverId, ip.name).toBe(primaryId);
      expect(ip.inputs.homeLocation, ip.name).toBe("fsn1");
      expect(ip.ignoreChanges, ip.name).toContain("serverId");
      // Production: neither Pulumi nor the console may release the addresses carriers know.
      expect(ip.protect, ip.name).toBe(true);
      expect(ip.inputs.deleteProtection, ip.name).toBe(true);
      expect(ip.inputs.labels).toMatchObject({ project: "telephony", stack: "prod" });
    }
  });

  it("sets reverse DNS on the floating addresses only, never on a primary IP", () => {
    const ptrs = hetzner.run.ofType(TYPES.rdns);
    expect(ptrs.filter((r) => r.inputs.primaryIpId !== undefined)).toEqual([]);
    const floatingIds = hetzner.run.ofType(TYPES.floatingIp).map((r) => Number(r.id));
    expect(ptrs.map((r) => r.inputs.floatingIpId).sort()).toEqual(floatingIds.sort());
    expect(ptrs.map((r) => r.inputs.ipAddress).sort()).toEqual(Object.values(floatingAddresses(hetzner)).sort());
    expect(new Set(ptrs.map((r) => r.inputs.dnsPtr))).toEqual(new Set(["sip.xynap.de"]));
  });

  it("points the outputs, the whitelist and the DNS records at the floating addresses", () => {
    const v4 = hetzner.run.ofType(TYPES.floatingIp).find((r) => r.inputs.type === "ipv4")!;
    expect(hetzner.outputs.ipv4).toBe(v4.state.ipAddress);
    expect(hetzner.outputs.ipv6).toMatch(/^2001:db8:f[0-9a-f]*::1$/);
    expect(Object.values(hetzner.outputs.ipAuthWhitelist).join("\n")).toContain(hetzner.outputs.ipv4);
    const records = hetzner.run
      .ofType(TYPES.rrset)
      .filter((r) => r.inputs.type === "A" || r.inputs.type === "AAAA")
      .map((r) => r.inputs.records[0].value);
    expect(records.sort()).toEqual(Object.values(floatingAddresses(hetzner)).sort());
  });

  it("names both hosts, the floating addresses and the rollout order in the outputs", () => {
    const { standby } = hetzner.outputs;
    expect(standby).toEqual({
      hosts: {
        primary: {
          serverName: "telephony-prod",
          serverId: serverNamed(hetzner, "host-server").id,
          sshAddress: hetzner.run.ofType(TYPES.primaryIp).find((r) => r.inputs.type === "ipv4")!.state.ipAddress,
          privateIpv4: "10.77.0.2",
        },
        standby: {
          serverName: "telephony-prod-standby",
          serverId: serverNamed(hetzner, "standby-host-server").id,
          sshAddress: serverNamed(hetzner, "standby-host-server").state.ipv4Address,
          privateIpv4: "10.77.0.3",
        },
      },
      floatingIpv4: hetzner.outputs.ipv4,
      floatingIpv6: hetzner.outputs.ipv6,
      floatingIpv6Network: expect.stringMatching(/::\/64$/),
      activeFirst: "primary",
      rolloutOrder: ["standby", "primary"],
    });
  });

  it("renders every host's profiles, ACL, UFW script and API settings on the floating addresses, never on a host's own", async () => {
    const floating = floatingAddresses(hetzner);
    const ownAddresses = [
      ...hetzner.run.ofType(TYPES.primaryIp).map((r) => r.state.ipAddress.replace(/::$/, "::1")),
      serverNamed(hetzner, "standby-host-server").state.ipv4Address,
    ];
    for (const key of ["primary", "standby"] as const) {
      const files = await hostFiles(hetzner, key);
      const profiles = files.filter((f) => f.path.includes("/sip_profiles/"));
      expect(profiles.length, key).toBeGreaterThan(0);
      for (const profile of profiles) {
        expect(profile.text, `${key} ${profile.path}`).toMatch(
          new RegExp(`"(${floating.ipv4}|${floating.ipv6.replace(/\./g, "\\.")})"`),
        );
      }
      for (const f of files) {
        for (const own of ownAddresses) expect(f.text.includes(own), `${key} ${f.path} names ${own}`).toBe(false);
      }
      expect(files.map((f) => f.path)).toEqual(
        expect.arrayContaining([HA_PATHS.keepalivedConf, HA_PATHS.token, HOST_PATHS.ufwScript]),
      );
      const keepalived = files.find((f) => f.path === HA_PATHS.keepalivedConf)!.text;
      expect(keepalived, key).toContain(floating.ipv4);
    }
  });

  it("gives each host its own facts: its server ID and the floating IPs' IDs", async () => {
    const [v4, v6] = ["ipv4", "ipv6"].map((t) =>
      hetzner.run.ofType(TYPES.floatingIp).find((r) => r.inputs.type === t)!,
    );
    for (const [key, server] of [
      ["primary", "host-server"],
      ["standby", "standby-host-server"],
    ] as const) {
      const env = (await hostFiles(hetzner, key)).find((f) => f.path === HA_PATHS.hostEnv)!.text;
      expect(env, key).toContain(serverNamed(hetzner, server).id);
      expect(env, key).toContain(v4.id);
      expect(env, key).toContain(v6.id);
    }
  });

  it("makes the self-signed certificate for the floating addresses", () => {
    const cert = selfSigned.run.one(TYPES.selfSignedCert);
    expect([...cert.inputs.ipAddresses].sort()).toEqual(Object.values(floatingAddresses(selfSigned)).sort());
  });

  it("runs the same steps on both hosts, the standby's named standby-*", () => {
    const commandNames = hetzner.run
      .ofType(TYPES.command)
      .map((r) => r.name)
      .filter((n) => !n.startsWith("standby-") && !n.startsWith("ha-enable-"));
    const standbyNames = hetzner.run
      .ofType(TYPES.command)
      .map((r) => r.name)
      .filter((n) => n.startsWith("standby-") && !n.startsWith("standby-host-"));
    const hostSteps = commandNames.filter((n) => !n.startsWith("host-"));
    expect(standbyNames.sort()).toEqual(hostSteps.map((n) => `standby-${n}`).sort());
    expect(standbyNames).toEqual(
      expect.arrayContaining(["standby-files-acl", "standby-files-keepalived", "standby-verify-sofia-status"]),
    );
  });

  it("runs each host's config API with the role keepalived writes mounted read-only, naming which host it is", async () => {
    const mount = `-v ${HA_PATHS.stateDir}:${dirname(API_HA_STATE)}:ro`;
    for (const name of ["config-api-container", "standby-config-api-container"]) {
      const create = String(named(hetzner, name).inputs.create);
      expect(create, name).toContain(mount);
    }
    const settings = async (key: "primary" | "standby") =>
      JSON.parse((await hostFiles(hetzner, key)).find((f) => f.path === HOST_PATHS.apiConfig)!.text) as {
        ha?: { host: string };
      };
    expect((await settings("primary")).ha).toEqual({ statePath: API_HA_STATE, host: "primary" });
    expect((await settings("standby")).ha).toEqual({ statePath: API_HA_STATE, host: "standby" });
  });

  it("holds every disrupting step of the primary until the standby is verified", () => {
    const primarySteps = [
      ...hetzner.run
        .ofType(TYPES.command)
        .filter((r) => r.name.startsWith("files-"))
        .map((r) => r.name),
      "config-api-container",
      "freeswitch-image-build",
      "freeswitch-container",
    ];
    for (const step of primarySteps) expect(dependsOn(hetzner, step, "standby-verify-sofia-status"), step).toBe(true);
    // ... and not the other way round.
    expect(dependsOn(hetzner, "standby-files-acl", "verify-sofia-status")).toBe(false);
    expect(dependsOn(hetzner, "standby-freeswitch-container", "verify-sofia-status")).toBe(false);
  });

  it("enables the primary after both hosts are verified, then the standby, once per server", () => {
    const primary = named(hetzner, "ha-enable-primary");
    const standby = named(hetzner, "ha-enable-standby");
    expect(dependsOn(hetzner, "ha-enable-primary", "verify-sofia-status")).toBe(true);
    expect(dependsOn(hetzner, "ha-enable-primary", "standby-verify-sofia-status")).toBe(true);
    expect(dependsOn(hetzner, "ha-enable-standby", "ha-enable-primary")).toBe(true);
    expect(primary.inputs.create).toBe(haEnableCommand("active"));
    expect(standby.inputs.create).toBe(haEnableCommand("standby"));
    // Create only: no update, no delete; re-run only on a new server.
    for (const step of [primary, standby]) {
      expect(step.inputs.update, step.name).toBeUndefined();
      expect(step.inputs.delete, step.name).toBeUndefined();
    }
    expect(primary.inputs.triggers).toEqual([serverNamed(hetzner, "host-server").id]);
    expect(standby.inputs.triggers).toEqual([serverNamed(hetzner, "standby-host-server").id]);
  });

  it("keeps the floating-IP token secret: only inside secret inputs, never in an output", () => {
    const holders = hetzner.run.resources.filter((r) => JSON.stringify(reveal(r.inputs)).includes(FLOATING_TOKEN));
    expect(holders.map((r) => r.name).sort()).toEqual(["files-keepalived", "standby-files-keepalived"]);
    for (const r of holders) expect(isSecretValue(r.inputs.stdin), r.name).toBe(true);
    const plainInputs = hetzner.run.resources.map((r) =>
      JSON.stringify(r.inputs, (_k, v) => (isSecretValue(v) ? "[secret]" : v)),
    );
    expect(plainInputs.filter((text) => text.includes(FLOATING_TOKEN))).toEqual([]);
    expect(JSON.stringify(hetzner.outputs)).not.toContain(FLOATING_TOKEN);
  });
});

describe("standby with host.provider existing", () => {
  it("registers nothing at Hetzner but the DNS records", () => {
    const types = new Set(existing.run.resources.filter((r) => r.type.startsWith("hcloud:")).map((r) => r.type));
    expect([...types]).toEqual([TYPES.rrset]);
  });

  it("deploys to both machines, the standby's steps on standby.existing", () => {
    const hosts = (prefix: string) =>
      new Set(
        existing.run
          .ofType(TYPES.command)
          .filter((r) => r.name.startsWith(prefix))
          .map((r) => reveal(r.inputs.connection).host),
      );
    expect(hosts("standby-")).toEqual(new Set([MACHINES.standby.ipv4]));
    expect(hosts("files-")).toEqual(new Set([MACHINES.primary.ipv4]));
    expect(reveal(named(existing, "ha-enable-standby").inputs.connection).host).toBe(MACHINES.standby.ipv4);
  });

  it("takes the floating addresses, their IDs and the server IDs from config", async () => {
    expect(existing.outputs.ipv4).toBe(FLOATING.ipv4);
    expect(existing.outputs.ipv6).toBe("2001:db8:30::1");
    expect(existing.outputs.standby.hosts.primary.serverId).toBe("1001");
    expect(existing.outputs.standby.hosts.standby.serverId).toBe("1002");
    const env = (await hostFiles(existing, "standby")).find((f) => f.path === HA_PATHS.hostEnv)!.text;
    for (const id of ["1002", "4711", "4712"]) expect(env).toContain(id);
  });
});

describe("without standby", () => {
  it("registers none of the pair's resources and no standby output", async () => {
    const single = await buildStack("prod", prodConfig());
    for (const type of [
      TYPES.floatingIp,
      TYPES.placementGroup,
      TYPES.network,
      TYPES.networkSubnet,
      TYPES.serverNetwork,
    ])
      expect(single.run.ofType(type), type).toEqual([]);
    expect(single.run.resources.filter((r) => /^(standby-|ha-enable-)/.test(r.name))).toEqual([]);
    expect(single.outputs).not.toHaveProperty("standby");
    expect(single.telephony.standby).toBeUndefined();
    expect(single.deployment.standby).toBeUndefined();
    expect(String(named(single, "config-api-container").inputs.create)).not.toContain(HA_PATHS.stateDir);
    // The primary IPs keep their reverse DNS.
    expect(
      single.run
        .ofType(TYPES.rdns)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["addresses-ipv4-ptr", "addresses-ipv6-ptr"]);
  });
});

describe("the enable step's script and the network zones", () => {
  it("maps every Hetzner Cloud location to its network zone and refuses an unknown one by name", () => {
    expect(["fsn1", "nbg1", "hel1", "ash", "hil", "sin"].map(networkZoneOf)).toEqual([
      "eu-central",
      "eu-central",
      "eu-central",
      "us-east",
      "us-west",
      "ap-southeast",
    ]);
    expect(() => networkZoneOf("xyz1")).toThrow(/host.location "xyz1"/);
  });

  /** Runs the enable script with the HA directory moved under a temporary one, role.json as given. */
  function runEnable(expected: "active" | "standby", role: string | undefined) {
    const dir = mkdtempSync(join(tmpdir(), "ha-enable-"));
    try {
      const state = HA_PATHS.state.replace(HA_PATHS.dir, dir);
      if (role !== undefined) {
        mkdirSync(dirname(state), { recursive: true });
        writeFileSync(state, JSON.stringify({ role, since: "2026-01-01T00:00:00Z", reason: "TEST", host: "primary" }));
      }
      const script = haEnableCommand(expected, 1).replaceAll(HA_PATHS.dir, dir);
      const result = spawnSync("bash", ["-c", script], { encoding: "utf8" });
      return { code: result.status, out: result.stdout + result.stderr, enabled: existsSync(`${dir}/enabled`) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("enables the host and succeeds once role.json says the expected role", () => {
    expect(runEnable("active", "active")).toMatchObject({ code: 0, enabled: true });
    expect(runEnable("standby", "standby")).toMatchObject({ code: 0, enabled: true });
  });

  it("fails, naming the role it found, when keepalived never reports the expected one", () => {
    const fault = runEnable("active", "fault");
    expect(fault.code).toBe(1);
    expect(fault.out).toMatch(/role is 'fault'.*expected active/);
    expect(runEnable("standby", undefined)).toMatchObject({ code: 1, enabled: true });
    expect(runEnable("standby", "active").code).toBe(1);
  });

  it("accepts a primary that stays standby: its peer took the addresses before (nopreempt)", () => {
    const replaced = runEnable("active", "standby");
    expect(replaced.code).toBe(0);
    expect(replaced.out).toMatch(/peer holds the floating IPs/);
  });
});
