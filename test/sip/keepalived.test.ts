import { spawn, spawnSync } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  HA_PRIORITY,
  renderCheckScript,
  renderHostEnv,
  renderKeepalivedConf,
  renderNonlocalBindSysctl,
  renderNotifyScript,
  type HaScriptPaths,
} from "../../sip/render/keepalived";
import type { HaState } from "../../sip/standby";
import { interfacesCommand } from "../../sip/haInterfaces";
import { standbyModel } from "./standbyFixtures";
import { haStateSchema } from "../../api/haRole";

const FLOATING = { ipv4: "203.0.113.20", ipv6: "2001:db8:f100::1" };
const TOKEN = "hcloud-token-never-shown-0123456789";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "ha-"));
  dirs.push(d);
  return d;
}
function pathsIn(dir: string): HaScriptPaths {
  return {
    token: join(dir, "hcloud-token"),
    hostEnv: join(dir, "host.env"),
    enabled: join(dir, "enabled"),
    stateDir: join(dir, "state"),
    state: join(dir, "state", "role.json"),
    notifyLock: join(dir, "notify.lock"),
    notify: join(dir, "notify.sh"),
    check: join(dir, "check.sh"),
    interfaces: join(dir, "interfaces.conf"),
  };
}
/** An executable file. */
function executable(path: string, text: string): string {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

describe("keepalived.conf", () => {
  const model = standbyModel("standby-existing");
  const primary = renderKeepalivedConf(model, FLOATING, "primary");
  const standby = renderKeepalivedConf(model, FLOATING, "standby");

  it("starts both hosts BACKUP with nopreempt, so a host that took over keeps the addresses", () => {
    for (const conf of [primary, standby]) {
      expect(conf).toMatch(/^\s+state BACKUP$/m);
      expect(conf).toMatch(/^\s+nopreempt$/m);
      expect(conf).not.toMatch(/state MASTER/);
    }
    expect(primary).toMatch(new RegExp(`^\\s+priority ${HA_PRIORITY.primary}$`, "m"));
    expect(standby).toMatch(new RegExp(`^\\s+priority ${HA_PRIORITY.standby}$`, "m"));
  });

  it("sends adverts unicast from its own private address to the other host's only", () => {
    expect(primary).toMatch(/unicast_src_ip 10\.77\.0\.2\n\s+unicast_peer \{\n\s+10\.77\.0\.3\n\s+\}/);
    expect(standby).toMatch(/unicast_src_ip 10\.77\.0\.3\n\s+unicast_peer \{\n\s+10\.77\.0\.2\n\s+\}/);
  });

  it("takes the virtual router ID from standby.virtualRouterId", () => {
    const other = standbyModel("standby-existing", (raw) => (raw.standby.virtualRouterId = 77));
    expect(renderKeepalivedConf(other, FLOATING, "primary")).toMatch(/^\s+virtual_router_id 77$/m);
    expect(primary).toMatch(/^\s+virtual_router_id 51$/m);
  });

  it("holds the floating IPv4 as its VIP and the IPv6 ::1 of the /64 on the public interface read on the host", () => {
    expect(primary).toMatch(/virtual_ipaddress \{\n\s+203\.0\.113\.20\/32 dev \$\{TELEPHONY_PUBLIC_INTERFACE\}\n\s+\}/);
    expect(primary).toMatch(
      /virtual_ipaddress_excluded \{\n\s+2001:db8:f100::1\/64 dev \$\{TELEPHONY_PUBLIC_INTERFACE\}\n\s+\}/,
    );
    expect(primary).toMatch(/^\s+interface \$\{TELEPHONY_PRIVATE_INTERFACE\}$/m);
    expect(primary).toContain("include /srv/telephony/ha/interfaces.conf");
  });

  it("runs the health check as the track script and the notify script on every transition", () => {
    expect(primary).toMatch(/vrrp_script telephony_check \{\n\s+script "\/srv\/telephony\/ha\/check\.sh"/);
    expect(primary).toMatch(/track_script \{\n\s+telephony_check\n\s+\}/);
    expect(primary).toContain('notify_master "/srv/telephony/ha/notify.sh active MASTER"');
    expect(primary).toContain('notify_backup "/srv/telephony/ha/notify.sh standby BACKUP"');
    expect(primary).toContain('notify_fault "/srv/telephony/ha/notify.sh fault FAULT"');
    expect(primary).toContain('notify_stop "/srv/telephony/ha/notify.sh standby STOP"');
    expect(primary).toMatch(/enable_script_security\n\s+script_user root/);
  });

  it("is refused without standby", () => {
    expect(() => renderKeepalivedConf({ standby: undefined }, FLOATING, "primary")).toThrow(/standby/);
  });
});

describe("the nonlocal-bind sysctl", () => {
  it("lets FreeSWITCH bind the floating addresses of both families on a host that does not hold them", () => {
    const text = renderNonlocalBindSysctl();
    expect(text).toMatch(/^net\.ipv4\.ip_nonlocal_bind = 1$/m);
    expect(text).toMatch(/^net\.ipv6\.ip_nonlocal_bind = 1$/m);
  });
});

describe("interfacesCommand (keepalived's interface names, read on the host)", () => {
  function run(addrOutput: string, routeOutput: string) {
    const dir = tempDir();
    const bin = join(dir, "bin");
    spawnSync("mkdir", [bin]);
    executable(
      join(bin, "ip"),
      `#!/usr/bin/env bash\ncase "$*" in\n  "-o -4 addr show to 10.77.0.3") printf '%s' '${addrOutput}' ;;\n  "-o -4 route show default") printf '%s' '${routeOutput}' ;;\n  *) echo "unexpected ip $*" >&2; exit 2 ;;\nesac\n`,
    );
    const paths = pathsIn(dir);
    const result = spawnSync("bash", ["-c", interfacesCommand("10.77.0.3", paths)], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    return { result, written: existsSync(paths.interfaces) ? readFileSync(paths.interfaces, "utf8") : undefined };
  }

  it("names the interface holding the private address and the one with the default route", () => {
    const { result, written } = run(
      "3: enp7s0    inet 10.77.0.3/32 brd 10.77.0.3 scope global dynamic enp7s0\\n",
      "default via 172.31.1.1 dev eth0 proto dhcp src 203.0.113.11 metric 100\\n",
    );
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(written).toBe("$TELEPHONY_PRIVATE_INTERFACE=enp7s0\n$TELEPHONY_PUBLIC_INTERFACE=eth0\n");
  });

  it("fails naming the address when the private network is not attached, and writes nothing", () => {
    const { result, written } = run("", "default via 172.31.1.1 dev eth0\\n");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("no interface holds the private address 10.77.0.3");
    expect(written).toBeUndefined();
  });
});

/** `sofia status` as FreeSWITCH prints it (tab-separated columns, padded names). */
function sofiaStatus(rows: [string, string, string, string][]): string {
  const lines = rows.map(([n, t, d, s]) => `${n.padStart(25)}\t${t}\t  ${d.padStart(40)}\t${s}`);
  return [
    `${"Name".padStart(25)}\t   Type\t${"Data".padStart(42)}\tState`,
    "=".repeat(97),
    ...lines,
    "=".repeat(97),
    "",
  ].join("\n");
}
const RUNNING: [string, string, string, string][] = [
  ["external-ipv4", "profile", "sip:mod_sofia@203.0.113.20:5060", "RUNNING (0)"],
  ["internal", "profile", "sip:mod_sofia@[2001:db8:f100::1]:5060", "RUNNING (0)"],
  ["internal-ipv4", "profile", "sip:mod_sofia@203.0.113.20:5080", "RUNNING (0)"],
];

describe("check.sh (keepalived's track script)", () => {
  const model = standbyModel("standby-existing");
  function check(opts: { enabled: boolean; status?: string; answers?: boolean }) {
    const dir = tempDir();
    const paths = pathsIn(dir);
    if (opts.enabled) writeFileSync(paths.enabled, "");
    writeFileSync(join(dir, "status.txt"), opts.status ?? "");
    const fsCli = executable(
      join(dir, "fs_cli"),
      `#!/usr/bin/env bash\n[ "$1" = 'sofia status' ] || exit 3\n${opts.answers === false ? "echo '[ERROR] fs_cli.c:1699 main() Error Connecting []' ; exit 1" : `cat ${join(dir, "status.txt")}`}\n`,
    );
    const script = executable(paths.check, renderCheckScript(model, fsCli, paths));
    return spawnSync("bash", [script], { encoding: "utf8" });
  }

  it("passes on an enabled host whose FreeSWITCH runs every profile", () => {
    const run = check({ enabled: true, status: sofiaStatus(RUNNING) });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("fails on a host the deploy has not enabled for election, however healthy", () => {
    const run = check({ enabled: false, status: sofiaStatus(RUNNING) });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("not enabled for election");
  });

  it("fails when FreeSWITCH does not answer", () => {
    const run = check({ enabled: true, answers: false });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("FreeSWITCH does not answer");
  });

  it("fails naming a profile that is not RUNNING, or missing", () => {
    const down = RUNNING.map((r) => (r[0] === "internal" ? ([r[0], r[1], r[2], "DOWN"] as typeof r) : r));
    expect(check({ enabled: true, status: sofiaStatus(down) }).stderr).toContain("profile internal is not RUNNING");
    const missing = RUNNING.filter((r) => r[0] !== "internal-ipv4");
    const run = check({ enabled: true, status: sofiaStatus(missing) });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("profile internal-ipv4 is not RUNNING");
  });

  it("bounds the FreeSWITCH question in time on the host", () => {
    expect(renderCheckScript(model)).toContain("timeout 2 docker exec telephony-freeswitch fs_cli -x 'sofia status'");
  });
});

interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  readonly body: string;
}

/** A stand-in for the Hetzner Cloud API on loopback; `answer` decides each reply. */
async function hetznerStandIn(answer: (req: SeenRequest, n: number) => { status: number; body: unknown }) {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const r = { method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, body };
      seen.push(r);
      const { status, body: reply } = answer(r, seen.length);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const action = (status: string) => ({ action: { id: 13, command: "assign_floating_ip", status, error: null } });

describe("notify.sh (keepalived's notify script)", () => {
  /** Runs notify.sh with the API at `api`; logger and curl are wrapped to record their command lines. */
  async function notify(api: string, args: string[], env: Record<string, string> = {}) {
    const dir = tempDir();
    const paths = pathsIn(dir);
    const model = standbyModel("standby-existing", (raw) => (raw.standby.hetznerApi = api));
    writeFileSync(paths.token, TOKEN, { mode: 0o600 });
    writeFileSync(
      paths.hostEnv,
      renderHostEnv(
        model,
        { key: "standby", serverId: "1002", floatingIpv4Id: "4711", floatingIpv6Id: "4712" },
        FLOATING,
      ),
    );
    const bin = join(dir, "bin");
    spawnSync("mkdir", [bin]);
    const argv = join(dir, "argv.log");
    // The machine's own firewall is never touched: iptables stand-ins record their arguments and
    // hold one rule each, as the real ones would (-C finds it, -D removes it, -I adds it).
    for (const cmd of ["iptables", "ip6tables"])
      executable(
        join(bin, cmd),
        `#!/usr/bin/env bash\nprintf '${cmd} %s\\n' "$*" >> ${argv}\nrule=${dir}/${cmd}.rule\ncase " $* " in\n  *" -C "*) [ -e "$rule" ] ;;\n  *" -D "*) [ -e "$rule" ] && rm "$rule" ;;\n  *" -I "*) echo "$*" > "$rule" ;;\nesac\n`,
      );
    executable(join(bin, "logger"), `#!/usr/bin/env bash\nprintf 'logger %s\\n' "$*" >> ${argv}\n`);
    const realCurl = spawnSync("bash", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();
    executable(join(bin, "curl"), `#!/usr/bin/env bash\nprintf 'curl %s\\n' "$*" >> ${argv}\nexec ${realCurl} "$@"\n`);
    const script = executable(paths.notify, renderNotifyScript(paths));
    const child = spawn("bash", [script, ...args], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HA_ASSIGN_INTERVAL: "0.1", ...env },
    });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const state = existsSync(paths.state) ? (JSON.parse(readFileSync(paths.state, "utf8")) as HaState) : undefined;
    return { status, stderr, state, paths, commandLines: existsSync(argv) ? readFileSync(argv, "utf8") : "" };
  }

  it("on active, assigns both floating IPs to this server with the token, then writes role.json", async () => {
    const api = await hetznerStandIn(() => ({ status: 201, body: action("running") }));
    try {
      const run = await notify(api.url, ["active", "MASTER"]);
      expect(run.status).toBe(0);
      expect(api.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
        "POST /v1/floating_ips/4711/actions/assign",
        "POST /v1/floating_ips/4712/actions/assign",
      ]);
      for (const r of api.seen) {
        expect(r.authorization).toBe(`Bearer ${TOKEN}`);
        expect(JSON.parse(r.body)).toEqual({ server: 1002 });
      }
      expect(run.state).toMatchObject({ role: "active", reason: "MASTER", host: "standby" });
      // The config API reads it with its own schema: what the script writes must pass it.
      expect(haStateSchema.safeParse(run.state).success).toBe(true);
      expect(Number.isNaN(Date.parse(run.state!.since))).toBe(false);
      expect(statSync(run.paths.state).mode & 0o777).toBe(0o644);
      expect(statSync(run.paths.stateDir).mode & 0o777).toBe(0o755);
    } finally {
      await api.close();
    }
  });

  it("never puts the token on a command line or in the log", async () => {
    const api = await hetznerStandIn(() => ({ status: 201, body: action("success") }));
    try {
      const run = await notify(api.url, ["active", "MASTER"]);
      expect(run.commandLines).toContain("curl --config -");
      expect(run.commandLines).toContain("logger -t telephony-ha");
      expect(run.commandLines).not.toContain(TOKEN);
      expect(run.stderr).not.toContain(TOKEN);
      expect(renderNotifyScript()).not.toMatch(/set -[a-z]*x|set -o xtrace/);
    } finally {
      await api.close();
    }
  });

  it("retries until the API accepts: a server error and an action in error are tried again", async () => {
    const api = await hetznerStandIn((_r, n) =>
      n === 1
        ? { status: 503, body: { error: { code: "unavailable" } } }
        : n === 2
          ? { status: 201, body: action("error") }
          : { status: 201, body: action("running") },
    );
    try {
      const run = await notify(api.url, ["active", "MASTER"]);
      expect(run.status).toBe(0);
      expect(api.seen.map((r) => r.url)).toEqual([
        "/v1/floating_ips/4711/actions/assign",
        "/v1/floating_ips/4711/actions/assign",
        "/v1/floating_ips/4711/actions/assign",
        "/v1/floating_ips/4712/actions/assign",
      ]);
      expect(run.commandLines).toMatch(/logger -t telephony-ha -- floating IPv4 \(ID 4711\): HTTP 503/);
      expect(run.state?.role).toBe("active");
    } finally {
      await api.close();
    }
  });

  it("gives up after HA_ASSIGN_SECONDS, says so, and still writes the role with the failure in its reason", async () => {
    const api = await hetznerStandIn(() => ({ status: 401, body: { error: { code: "unauthorized" } } }));
    try {
      const run = await notify(api.url, ["active", "MASTER"], { HA_ASSIGN_SECONDS: "0" });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("floating IPv4 (ID 4711) NOT assigned to server 1002 (standby): HTTP 401");
      expect(run.state).toMatchObject({ role: "active", host: "standby" });
      expect(run.state?.reason).toBe("MASTER; floating IPv4 not assigned; floating IPv6 not assigned");
    } finally {
      await api.close();
    }
  });

  it("lets only the active host send from the floating addresses", async () => {
    const api = await hetznerStandIn(() => ({ status: 201, body: action("success") }));
    try {
      const backup = await notify(api.url, ["standby", "BACKUP"]);
      expect(backup.commandLines).toContain(`iptables -w -I OUTPUT 1 -s ${FLOATING.ipv4} -j DROP`);
      expect(backup.commandLines).toContain(`ip6tables -w -I OUTPUT 1 -s ${FLOATING.ipv6} -j DROP`);
      const active = await notify(api.url, ["active", "MASTER"]);
      expect(active.commandLines).toContain(`iptables -w -D OUTPUT -s ${FLOATING.ipv4} -j DROP`);
      expect(active.commandLines).toContain(`ip6tables -w -D OUTPUT -s ${FLOATING.ipv6} -j DROP`);
      expect(active.commandLines).not.toContain("-I OUTPUT");
    } finally {
      await api.close();
    }
  });

  it("on standby and fault only writes the role: the API is not called", async () => {
    const api = await hetznerStandIn(() => ({ status: 500, body: {} }));
    try {
      const backup = await notify(api.url, ["standby", "BACKUP"]);
      expect(backup.status).toBe(0);
      expect(backup.state).toMatchObject({ role: "standby", reason: "BACKUP", host: "standby" });
      const fault = await notify(api.url, ["fault", "FAULT"]);
      expect(fault.state).toMatchObject({ role: "fault", reason: "FAULT" });
      expect(api.seen).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it("refuses a role it does not know", async () => {
    const run = await notify("http://127.0.0.1:9/v1", ["master", "x"]);
    expect(run.status).toBe(2);
    expect(run.state).toBeUndefined();
  });
});
