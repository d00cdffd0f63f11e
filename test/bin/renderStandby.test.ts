import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ID_AT_DEPLOY, renderStackToDir } from "../../bin/render";
import { MASK } from "../../sip/bundle";
import { HA_PATHS, HOST_PATHS } from "../../sip/hostLayout";
import { STANDBY_FIXTURES } from "../sip/standbyFixtures";
import { PROJECT_DIR } from "../support/environment";

const render = (stack: string) => renderStackToDir(STANDBY_FIXTURES, stack, mkdtempSync(join(tmpdir(), "render-ha-")));
const read = (dir: string, path: string) => readFileSync(join(dir, path), "utf8");
const PER_HOST = [HA_PATHS.keepalivedConf, HA_PATHS.hostEnv, HOST_PATHS.apiConfig, HOST_PATHS.ufwScript];

describe("npm start with standby", () => {
  it("writes the files the hosts share at their host paths and each host's own under hosts/<host>/", () => {
    const { outDir } = render("standby-existing");
    for (const path of PER_HOST) {
      expect(existsSync(join(outDir, path)), `${path} must not be shared`).toBe(false);
      for (const host of ["primary", "standby"]) expect(existsSync(join(outDir, "hosts", host, path))).toBe(true);
    }
    for (const shared of [HA_PATHS.notify, HA_PATHS.check, HA_PATHS.sysctl, `${HOST_PATHS.freeswitchConf}/vars.xml`])
      expect(existsSync(join(outDir, shared)), shared).toBe(true);
    expect(readdirSync(join(outDir, "hosts")).sort()).toEqual(["primary", "standby"]);
    expect(read(outDir, `hosts/primary${HA_PATHS.keepalivedConf}`)).toContain("unicast_src_ip 10.77.0.2");
    expect(read(outDir, `hosts/standby${HA_PATHS.keepalivedConf}`)).toContain("unicast_src_ip 10.77.0.3");
    expect(read(outDir, HA_PATHS.token)).toBe(MASK);
    expect(statSync(join(outDir, HA_PATHS.token)).mode & 0o777).toBe(0o600);
  });

  it("with machines you bring, renders the configured IDs and binds the floating addresses", () => {
    const { outDir } = render("standby-existing");
    expect(read(outDir, `hosts/standby${HA_PATHS.hostEnv}`)).toContain("HA_SERVER_ID='1002'");
    expect(read(outDir, `hosts/primary${HA_PATHS.hostEnv}`)).toContain("HA_FLOATING_IPV6_ID='4712'");
    expect(read(outDir, `${HOST_PATHS.freeswitchConf}/sip_profiles/internal.xml`)).toContain(
      '<param name="sip-ip" value="2001:db8:f100::1"/>',
    );
  });

  it("on Hetzner, offline, says the IDs are set at deploy and the addresses are previews", () => {
    const { outDir, summary } = render("standby-hetzner");
    expect(read(outDir, `hosts/primary${HA_PATHS.hostEnv}`)).toContain(`HA_SERVER_ID='${ID_AT_DEPLOY}'`);
    expect(summary).toContain(
      "preview addresses from host.previewAddresses, standing in for the floating IPs the stack creates",
    );
  });

  it("summarises the pair: both hosts with their role at the first deploy, private addresses, floating addresses and the rollout order", () => {
    const { summary } = render("standby-existing");
    expect(summary).toMatch(
      /^ {2}primary +active \(holds the floating IPs\) +host\.existing \(203\.0\.113\.10\) +10\.77\.0\.2 +1001$/m,
    );
    expect(summary).toMatch(/^ {2}standby +standby +standby\.existing \(203\.0\.113\.11\) +10\.77\.0\.3 +1002$/m);
    expect(summary).toContain("floating IPv4 203.0.113.20, IPv6 2001:db8:f100::1 (of 2001:db8:f100::/64)");
    expect(summary).toContain("a restarting change reaches standby, then primary");
    expect(summary).toContain("IP-auth providers must whitelist 203.0.113.20: plusnet");
    expect(summary).toMatch(/\/etc\/keepalived\/keepalived\.conf \(per host\) +0644 +keepalived: none for calls/);
  });

  it("leaves a stack without standby as it was: no hosts/ directory, no pair file", () => {
    const { outDir, summary } = renderStackToDir(PROJECT_DIR, "prod", mkdtempSync(join(tmpdir(), "render-")));
    expect(existsSync(join(outDir, "hosts"))).toBe(false);
    expect(existsSync(join(outDir, HA_PATHS.dir))).toBe(false);
    expect(summary).not.toMatch(/standby|keepalived/i);
  });
});
