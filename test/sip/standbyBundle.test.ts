import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { apiSettings, MASK, MASKED_SECRETS, renderBundle, type HostSecrets } from "../../sip/bundle";
import { fileGroups, writeFilesCommand } from "../../sip/deploy";
import { API_HA_STATE, FREESWITCH_CONTAINER, HA_PATHS, HOST_PATHS } from "../../sip/hostLayout";
import { disruption, ifContainerRunning, reloadCommand, type ReloadClass } from "../../sip/reload";
import type { RenderedFile } from "../../sip/renderedFile";
import { renderUfwScript } from "../../sip/render/ufw";
import type { StandbyHostFacts } from "../../sip/standby";
import { renderVerifyScript, standbyExpectations } from "../../sip/verify";
import { prodModel } from "../support/stackConfig";
import { paramMap, parseXml } from "../support/xml";
import { standbyModel } from "./standbyFixtures";

const FLOATING = { ipv4: "203.0.113.20", ipv6: "2001:db8:f100::1" };
const facts = (key: "primary" | "standby"): StandbyHostFacts => ({
  key,
  serverId: key === "primary" ? "1001" : "1002",
  floatingIpv4Id: "4711",
  floatingIpv6Id: "4712",
});
const SECRETS: HostSecrets = { ...MASKED_SECRETS, hetznerFloatingIpToken: "the-floating-ip-token" };
const byPath = (files: readonly RenderedFile[], path: string) => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`${path} not rendered`);
  return f;
};
const profileSettings = (files: readonly RenderedFile[], profile: string) =>
  paramMap(parseXml(byPath(files, `${HOST_PATHS.freeswitchConf}/sip_profiles/${profile}.xml`).content));

describe("renderBundle with standby", () => {
  const model = standbyModel("standby-existing");
  const primary = renderBundle(model, FLOATING, SECRETS, facts("primary"));
  const standby = renderBundle(model, FLOATING, SECRETS, facts("standby"));

  it("adds the pair's files in the keepalived class, scripts executable by root only and the token secret", () => {
    const ha = primary.filter((f) => f.reload.kind === "keepalived");
    expect(ha.map((f) => `${f.path} ${f.mode}${f.secret ? " secret" : ""}`).sort()).toEqual(
      [
        `${HA_PATHS.keepalivedConf} 0644`,
        `${HA_PATHS.hostEnv} 0644`,
        `${HA_PATHS.sysctl} 0644`,
        `${HA_PATHS.token} 0600 secret`,
        `${HA_PATHS.notify} 0700`,
        `${HA_PATHS.check} 0700`,
      ].sort(),
    );
    expect(byPath(primary, HA_PATHS.token).content).toBe("the-floating-ip-token");
    expect(fileGroups(primary).find((g) => g.name === "keepalived")).toMatchObject({ secret: true });
  });

  it("turns Sofia's auto-restart off, so a takeover's new addresses on the interface restart no profile", () => {
    const sofiaConf = (files: readonly RenderedFile[]) =>
      paramMap(parseXml(files.find((f) => f.path.endsWith("/autoload_configs/sofia.conf.xml"))!.content));
    expect(sofiaConf(primary)["auto-restart"]).toBe("false");
    expect(sofiaConf(renderBundle(prodModel(), FLOATING, MASKED_SECRETS))).not.toHaveProperty("auto-restart");
  });

  it("gives each host its own keepalived.conf, host.env, API settings and UFW script, and the same everything else", () => {
    const differing = primary.filter((f) => byPath(standby, f.path).content !== f.content).map((f) => f.path);
    expect(differing.sort()).toEqual(
      [HA_PATHS.keepalivedConf, HA_PATHS.hostEnv, HOST_PATHS.apiConfig, HOST_PATHS.ufwScript].sort(),
    );
    expect(byPath(standby, HA_PATHS.hostEnv).content).toContain("HA_SERVER_ID='1002'");
    expect(primary.map((f) => f.path)).toEqual(standby.map((f) => f.path));
  });

  it("binds the profiles to the floating addresses and forces registrations to 120 s", () => {
    const external = profileSettings(primary, "external-ipv4");
    expect(external).toMatchObject({
      "sip-ip": "203.0.113.20",
      "ext-sip-ip": "203.0.113.20",
      "ext-rtp-ip": "203.0.113.20",
      "rtp-ip": "203.0.113.20",
    });
    expect(profileSettings(primary, "internal")).toMatchObject({
      "sip-ip": "2001:db8:f100::1",
      "ext-rtp-ip": "2001:db8:f100::1",
    });
    for (const p of ["external-ipv4", "internal", "internal-ipv4"])
      expect(profileSettings(primary, p)["sip-force-expires"]).toBe("120");
  });

  it("tells the config API which host it runs on and where the role file is", () => {
    expect(JSON.parse(byPath(primary, HOST_PATHS.apiConfig).content).ha).toEqual({
      statePath: API_HA_STATE,
      host: "primary",
    });
    expect(JSON.parse(byPath(standby, HOST_PATHS.apiConfig).content).ha).toEqual({
      statePath: API_HA_STATE,
      host: "standby",
    });
  });

  it("says on every FreeSWITCH restart that it moves the addresses away from the active host", () => {
    const restart = byPath(primary, `${HOST_PATHS.freeswitchConf}/vars.xml`).reload;
    expect(disruption(restart)).toContain("the other host takes the floating addresses");
  });

  it("is refused without the host it is for, and without the floating-IP token", () => {
    expect(() => renderBundle(model, FLOATING, SECRETS)).toThrow(/renderBundle needs the host/);
    const { hetznerFloatingIpToken: _gone, ...without } = SECRETS;
    expect(() => renderBundle(model, FLOATING, without, facts("primary"))).toThrow(/hetznerFloatingIpToken/);
  });

  it("offline, masks the token like every other secret", () => {
    expect(byPath(renderBundle(model, FLOATING, MASKED_SECRETS, facts("primary")), HA_PATHS.token).content).toBe(MASK);
  });
});

describe("without standby nothing changes", () => {
  const model = prodModel();
  const addresses = { ipv4: "46.4.96.105", ipv6: "2a01:4f8:140:829d::2" };

  it("renders the same bundle whether or not a host is given, with no pair file, no forced expiry and no ha settings", () => {
    const plain = renderBundle(model, addresses, MASKED_SECRETS);
    expect(renderBundle(model, addresses, MASKED_SECRETS, facts("primary"))).toEqual(plain);
    expect(plain.some((f) => f.reload.kind === "keepalived" || f.path.startsWith(HA_PATHS.dir))).toBe(false);
    expect(profileSettings(plain, "internal")["sip-force-expires"]).toBeUndefined();
    expect(apiSettings(model, addresses, "primary").ha).toBeUndefined();
    expect(disruption(byPath(plain, `${HOST_PATHS.freeswitchConf}/vars.xml`).reload)).not.toContain("standby");
    expect(renderUfwScript(model, "primary")).not.toContain("vrrp");
  });
});

describe("UFW with standby", () => {
  it("admits VRRP from the other host's private address only, to this host's", () => {
    const model = standbyModel("standby-hetzner");
    const primary = renderUfwScript(model, "primary")
      .split("\n")
      .filter((l) => l.includes("vrrp"));
    const standby = renderUfwScript(model, "standby")
      .split("\n")
      .filter((l) => l.includes("vrrp"));
    expect(primary).toEqual([
      "ufw allow proto vrrp from 10.77.0.3 to 10.77.0.2 comment 'VRRP from the standby pair (standby)'",
    ]);
    expect(standby).toEqual([
      "ufw allow proto vrrp from 10.77.0.2 to 10.77.0.3 comment 'VRRP from the standby pair (primary)'",
    ]);
  });
});

describe("the keepalived reload class", () => {
  const keepalived: ReloadClass = { kind: "keepalived", privateIpv4: "10.77.0.3" };

  it("reads the interface names, installs keepalived where missing, applies the sysctl, enables and reloads keepalived, in that order", () => {
    const command = reloadCommand(keepalived, { ufwScript: HOST_PATHS.ufwScript });
    const steps = [
      "ip -o -4 addr show to 10.77.0.3",
      `> ${HA_PATHS.interfaces}`,
      "dpkg-query -W -f='${Status}' keepalived",
      `sysctl -q -p ${HA_PATHS.sysctl}`,
      "systemctl enable -q keepalived",
      "systemctl reload-or-restart keepalived",
    ];
    const at = steps.map((s) => command.indexOf(s));
    expect(
      at.every((i) => i >= 0),
      command,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(spawnSync("bash", ["-n", "-c", command]).status).toBe(0);
  });

  it("runs on a first deploy too, before FreeSWITCH exists: the sysctl must be in place before FreeSWITCH binds the floating addresses", () => {
    const model = standbyModel("standby-existing");
    const group = fileGroups(renderBundle(model, FLOATING, SECRETS, facts("standby"))).find(
      (g) => g.name === "keepalived",
    )!;
    const script = writeFilesCommand(group);
    expect(script).toContain(reloadCommand(group.reload, { ufwScript: HOST_PATHS.ufwScript }));
    // What every FreeSWITCH-side class is wrapped in (it would skip the reload on a first deploy):
    const guard = ifContainerRunning(FREESWITCH_CONTAINER, "true").replace(/ then true; fi$/, "");
    expect(script).not.toContain(guard);
  });

  it("says a reload keeps the addresses where they are", () => {
    expect(disruption(keepalived)).toMatch(/^none for calls: .*floating addresses stay where they are/);
  });
});

describe("role-aware verification with standby", () => {
  const model = standbyModel("standby-existing");
  const rows = (extra: [string, string, string, string][] = []) =>
    [
      ["external-ipv4", "profile", "sip:mod_sofia@203.0.113.20:5060", "RUNNING (0)"],
      ["internal", "profile", "sip:mod_sofia@[2001:db8:f100::1]:5060", "RUNNING (0)"],
      ["internal-ipv4", "profile", "sip:mod_sofia@203.0.113.20:5080", "RUNNING (0)"],
      ...extra,
    ]
      .map(([n, t, d, s]) => `${n.padStart(25)}\t${t}\t  ${d.padStart(40)}\t${s}`)
      .join("\n") + "\n";
  const trunksUp: [string, string, string, string][] = [
    ["external-ipv4::plusnet", "gateway", "sip:+493455667290@sip.plusnet.de", "NOREG"],
    ["internal::oneandone", "gateway", "sip:493455664337@sip.1und1.de", "REGED"],
  ];

  function verify(status: string, role: "not-enabled" | "no-role-yet" | "active" | "standby" | "fault") {
    const dir = mkdtempSync(join(tmpdir(), "verify-ha-"));
    try {
      const rolePaths = { enabled: join(dir, "enabled"), state: join(dir, "role.json") };
      if (role !== "not-enabled") writeFileSync(rolePaths.enabled, "");
      if (role !== "not-enabled" && role !== "no-role-yet")
        writeFileSync(
          rolePaths.state,
          JSON.stringify({ role, since: "2026-01-01T00:00:00Z", reason: "X", host: "primary" }),
        );
      writeFileSync(join(dir, "status.txt"), status);
      const fsCli = join(dir, "fs_cli");
      writeFileSync(
        fsCli,
        `#!/usr/bin/env bash\ncase "$1" in\n  'sofia status') cat ${join(dir, "status.txt")} ;;\n  'sofia status gateway plusnet') printf 'Status  \\tUP\\nPingState\\t1/1/3\\n' ;;\n  *) echo "Invalid Gateway!" ;;\nesac\n`,
      );
      chmodSync(fsCli, 0o755);
      const script = join(dir, "verify.sh");
      writeFileSync(script, renderVerifyScript(model, fsCli, rolePaths));
      return spawnSync("bash", [script], {
        encoding: "utf8",
        env: { ...process.env, VERIFY_TIMEOUT: "0", VERIFY_INTERVAL: "0" },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("on a host that is not active, expects profiles RUNNING and no trunk gateway", () => {
    expect(standbyExpectations(model).map((e) => `${e.type} ${e.name}`)).toEqual([
      "profile external-ipv4",
      "profile internal",
      "profile internal-ipv4",
      "absent oneandone",
      "absent plusnet",
    ]);
    for (const role of ["not-enabled", "no-role-yet", "standby", "fault"] as const) {
      const run = verify(rows(), role);
      expect(run.status, `${role}: ${run.stderr}`).toBe(0);
      expect(run.stdout).toContain("no trunk gateway");
    }
  });

  it("fails a standby host that still runs a trunk's gateway, naming it", () => {
    const run = verify(rows([trunksUp[1]]), "standby");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("gateway oneandone: REGED, expected stopped");
    expect(run.stderr).toContain("role in the standby pair: standby");
  });

  it("on the active host, expects the trunks up as on a single host", () => {
    expect(verify(rows(trunksUp), "active").status).toBe(0);
    const run = verify(rows(), "active");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("gateway oneandone: missing, expected REGED");
  });
});
