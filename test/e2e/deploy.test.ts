/**
 * The deploy path for real: `pulumi up` of a host.provider existing stack (test/e2e/Pulumi.e2e.yaml)
 * onto a disposable Debian 12 host (test/support/e2eHost.ts), with a stand-in registrar (registrar.mjs), on
 * documentation addresses in namespaces the test creates (test/support/namespaces.ts). In order:
 *   1. the first deploy: every step runs and the verification passes;
 *   2. an unchanged stack changes nothing; a trunk added, an ACL range and a trunk password changed
 *      plan exactly the README's steps, replace no container, and apply with the verification passing;
 *   3. drift: the FreeSWITCH container removed by hand is reported and put back;
 *   4. recovery: the host is rebuilt empty at the same address and the README's procedure brings the stack back;
 *   5. `pulumi destroy` removes what the stack put on the host.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { bundleLayout } from "../../components/files";
import { API_CONTAINER, FREESWITCH_CONTAINER, HOST_PATHS } from "../../sip/hostLayout";
import type { StackModel } from "../../sip/model";
import { buildModel } from "../../sip/stack";
import { buildHostImage, destroyHost, loadImage, ssh, startHost, type HostSpec } from "../support/e2eHost";
import { createControllerNamespace, deleteNamespace, E2E_NETWORK } from "../support/namespaces";
import {
  apiBaseImage as apiBaseImageOf,
  freeswitchImage as freeswitchImageLookup,
  pulumiEngine,
  required,
} from "../support/environment";
import { sh } from "../support/exec";
import { makeRunKeys, webhookAlerts, WEBHOOK_SERVER, type RunKeys } from "../support/e2eRun";
import { PulumiSandbox, urnName } from "../support/pulumiSandbox";
import { waitFor } from "../support/waitFor";

const STACK = "e2e";
const RUN = `e2e-${randomBytes(3).toString("hex")}`;

/** trunks.peer-register.realm in the stack file. */
const REGISTRAR_REALM = "registrar.e2e.example";
const PASSWORDS = {
  first: `e2e-trunk-${randomBytes(6).toString("hex")}`,
  rotated: `e2e-rotated-${randomBytes(6).toString("hex")}`,
};
/** Everything the CLI printed, to check that no secret appears in it. */
const transcript: string[] = [];

let tmp: string;
let spec: HostSpec;
let cli: PulumiSandbox;
let image: string;
/** FREESWITCH_IMAGE (from the environment), preloaded on the host and deployed by its image ID. */
let freeswitchImage: string;
/** .ci/docker-setup.sh's Node.js base image, preloaded on the host: the API's image is built FROM it there. */
let apiBaseImage: string;
let registrar: ChildProcess;
let registrarLog = "";
/** The alerts webhook's stand-in: one line per POST (its Authorization header, then the body). */
let webhook: ChildProcess;
let webhookLog = "";
const WEBHOOK_PORT = 8099;
const WEBHOOK_TOKEN = `e2e-webhook-${randomBytes(8).toString("hex")}`;
let passwordFile: string;
let keys: RunKeys;
/** The config API's admin token the stack generated, as found on the host. */
let adminToken = "";

function pulumi(args: string[], input?: string) {
  const r = cli.run(args, { stdin: input });
  transcript.push(r.stdout, r.stderr);
  if (r.code !== 0) {
    throw new Error(
      `pulumi ${args.join(" ")} exited ${r.code}\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-3000)}\nstand-in registrar:\n${registrarLog.slice(-2000)}`,
    );
  }
  return r;
}

async function prepareHost(): Promise<void> {
  await startHost(spec, image);
  await loadImage(spec, apiBaseImage);
  await loadImage(spec, freeswitchImage);
}

/** Starts the stand-in registrar (REGISTER for peer-register, OPTIONS for the IP-auth peers) in the test's namespace. */
async function startRegistrar(): Promise<void> {
  const before = registrarLog.split("listening on").length;
  registrar = spawn(
    "ip",
    [
      "netns",
      "exec",
      spec.namespace,
      process.execPath,
      join(__dirname, "registrar.mjs"),
      passwordFile,
      REGISTRAR_REALM,
      E2E_NETWORK.peer.ipv6,
      E2E_NETWORK.peer.ipv4,
      E2E_NETWORK.secondPeer.ipv4,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  registrar.stdout!.on("data", (d) => (registrarLog += d));
  registrar.stderr!.on("data", (d) => (registrarLog += d));
  await waitFor(
    () => `the stand-in registrar to start: ${registrarLog}`,
    20_000,
    () => registrarLog.split("listening on").length === before + 3,
  );
}

/** The alerts the webhook stand-in received, in order. */
const alertsReceived = () =>
  webhookAlerts<{
    event: string;
    trunk: string;
    state: string;
    pingStatus?: string;
    since: string;
    reason?: string;
  }>(webhookLog);

/** /metrics from the deploying side (inside host.adminSshRanges), on the host's public IPv4 and port 9282. */
const metrics = () =>
  sh("ip", [
    "netns",
    "exec",
    spec.namespace,
    "curl",
    "-fsS",
    "--max-time",
    "10",
    `http://${E2E_NETWORK.host.ipv4}:9282/metrics`,
  ]);

/** The registrar's line for an accepted REGISTER from the host's own IPv6. */
const REGISTERED = `REGISTER e2e-user 200 from [${E2E_NETWORK.host.ipv6}]`;

/**
 * The registrar saw a REGISTER with the right password, from the host. Its output arrives through the event
 * loop, which the synchronous CLI runs held up: give it a turn first.
 */
async function registered(): Promise<void> {
  await waitFor(
    () => `a successful REGISTER at the stand-in registrar:\n${registrarLog}`,
    5_000,
    () => registrarLog.split("\n").includes(REGISTERED),
  );
}

function stackModel(): StackModel {
  const doc = parse(readFileSync(join(cli.dir, `Pulumi.${STACK}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const raw = Object.fromEntries(
    Object.entries(doc.config)
      .filter(([k]) => k.startsWith("telephony:") && k !== "telephony:secrets")
      .map(([k, v]) => [k.slice("telephony:".length), v]),
  );
  return buildModel(raw, { stack: STACK, secretPaths: "unknown" });
}

/** The state's outputs of one resource, by name. */
function resourceOutputs(name: string): Record<string, any> {
  const state = JSON.parse(pulumi(["stack", "export"]).stdout) as {
    deployment: { resources: { urn: string; outputs?: Record<string, any> }[] };
  };
  const found = state.deployment.resources.find((r) => urnName(r.urn) === name);
  if (!found) throw new Error(`no resource ${name} in the state`);
  return found.outputs ?? {};
}

const running = (container: string) =>
  ssh(spec, `docker inspect -f '{{.State.Running}}' ${container} 2>/dev/null || echo missing`).trim();
const readyz = () =>
  JSON.parse(ssh(spec, "curl -fsS http://127.0.0.1:8001/readyz")) as { trunks: number; extensions: number };
const gatewayState = (gateway: string) =>
  /^State\s+(\S+)/m.exec(
    ssh(spec, `docker exec ${FREESWITCH_CONTAINER} fs_cli -x 'sofia status gateway ${gateway}'`),
  )?.[1];

beforeAll(async () => {
  const engineBin = required(pulumiEngine());
  image = buildHostImage();
  freeswitchImage = required(freeswitchImageLookup());
  apiBaseImage = apiBaseImageOf();
  tmp = mkdtempSync(join(tmpdir(), `${RUN}-`));
  // The deploy key the machine's owner authorized for root, and an admin key for the stack to add.
  keys = makeRunKeys(tmp, RUN);
  const { keyDir, privateKeyFile } = keys;
  spec = {
    name: RUN,
    namespace: `${RUN}-ctl`,
    keyDir,
    privateKeyFile,
    vethPrefix: RUN.replace(/-/g, ""),
  };

  createControllerNamespace(spec.namespace);
  await prepareHost();

  passwordFile = join(tmp, "registrar-password");
  writeFileSync(passwordFile, PASSWORDS.first);
  await startRegistrar();
  // The alerts webhook (telephony:alerts.webhook in the stack file) on the deploying side's address.
  webhook = spawn(
    "ip",
    [
      "netns",
      "exec",
      spec.namespace,
      process.execPath,
      "-e",
      WEBHOOK_SERVER,
      E2E_NETWORK.controller.ipv4,
      String(WEBHOOK_PORT),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  webhook.stdout!.on("data", (d) => (webhookLog += d));
  webhook.stderr!.on("data", (d) => (webhookLog += d));
  await waitFor(
    () => `the webhook stand-in to start: ${webhookLog}`,
    20_000,
    () => webhookLog.includes("listening"),
  );

  cli = new PulumiSandbox({
    engineBin,
    root: tmp,
    name: "pulumi",
    keepStackFiles: [],
    extraStackFiles: [join(__dirname, `Pulumi.${STACK}.yaml`)],
    namespace: spec.namespace,
    commandTimeoutMs: 15 * 60_000,
  });
  pulumi(["stack", "init", STACK]);
  // The README's commands for a machine you bring, plus what this run made.
  pulumi(["config", "set", "--secret", "--path", "telephony:secrets.sshPrivateKey"], keys.privateKey);
  pulumi(["config", "set", "--secret", "--path", "telephony:secrets.trunkPasswords.peer-register", PASSWORDS.first]);
  pulumi(["config", "set", "--path", "telephony:host.sshPublicKeys[0]", keys.adminPublicKey]);
  // The images the host has (it reaches no registry): FreeSWITCH pinned by its image ID.
  pulumi([
    "config",
    "set",
    "--path",
    "telephony:freeswitch.image",
    sh("docker", ["image", "inspect", "-f", "{{.Id}}", freeswitchImage]).trim(),
  ]);
  pulumi(["config", "set", "--path", "telephony:freeswitch.apiBaseImage", apiBaseImage]);
  pulumi(["config", "set", "--secret", "--path", "telephony:secrets.alertsWebhookToken", WEBHOOK_TOKEN]);
}, 20 * 60_000);

afterAll(() => {
  registrar?.kill();
  webhook?.kill();
  // E2E_KEEP=1: leave the host, the namespace and the temp dir for a look (remove them by hand).
  if (process.env.E2E_KEEP)
    return console.log(`kept: container ${spec?.name}-host, namespace ${spec?.namespace}, ${tmp}`);
  if (spec) {
    destroyHost(spec);
    deleteNamespace(spec.namespace);
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("pulumi up onto a machine you bring", () => {
  it("1. deploys every step and passes the verification", async () => {
    pulumi(["up", "--yes", "--skip-preview"]);

    // Files, each with the mode the bundle gives it.
    const model = stackModel();
    const layout = bundleLayout(model);
    const modes = ssh(spec, `stat -c '%a %n' ${layout.map((f) => f.path).join(" ")}`)
      .trim()
      .split("\n");
    expect(modes).toEqual(layout.map((f) => `${Number.parseInt(f.mode, 8).toString(8)} ${f.path}`));
    expect(ssh(spec, `stat -c '%u' ${HOST_PATHS.apiSecrets}/admin_token`).trim()).toBe("10001");
    adminToken = ssh(spec, `cat ${HOST_PATHS.apiSecrets}/admin_token`).trim();

    // Both containers run; the API holds the trunk and extension sets.
    expect(running(API_CONTAINER)).toBe("true");
    expect(running(FREESWITCH_CONTAINER)).toBe("true");
    expect(readyz()).toMatchObject({ trunks: 2, extensions: 1 });

    // The verification ran and passed; the REGISTER trunk registered with the right password.
    expect(resourceOutputs("verify-sofia-status").stdout).toContain("all profiles running");
    expect(gatewayState("peer-register")).toBe("REGED");
    expect(gatewayState("peer-ipauth")).toBe("NOREG");
    await registered();

    // The bootstrap found everything installed and started fail2ban with both jails; UFW admits SSH from the admin range only.
    expect(ssh(spec, "systemctl is-active docker fail2ban").trim().split("\n")).toEqual(["active", "active"]);
    expect(ssh(spec, "fail2ban-client status")).toMatch(/Jail list:\s+freeswitch-telephony, sshd/);
    const ufw = ssh(spec, "ufw status");
    expect(ufw).toContain("Status: active");
    expect(ufw).toMatch(/22\/tcp\s+ALLOW\s+198\.51\.100\.1\b/);
    // The admin key joined the deploy key.
    expect(ssh(spec, "cat /root/.ssh/authorized_keys")).toContain(`${RUN}-admin`);
  });

  it("1b. serves /metrics to the admin range, and alerts the webhook once when a trunk goes down and once when it is back", async () => {
    // Two signs of life: the REGISTER trunk's registration state, the IP-auth trunk's ping status.
    const first = metrics();
    expect(first).toMatch(/^freeswitch_sofia_gateway_state\{[^}]*name="peer-register"[^}]*state="REGED"[^}]*\} 1$/m);
    expect(first).toMatch(/^freeswitch_sofia_gateway_status\{[^}]*name="peer-ipauth"[^}]*\} 1$/m);
    expect(first).toMatch(/^freeswitch_up 1$/m);
    // The API's own listener is not reachable from outside: only /metrics, on 9282.
    expect(
      sh("ip", [
        "netns",
        "exec",
        spec.namespace,
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "5",
        `http://${E2E_NETWORK.host.ipv4}:9282/readyz`,
      ]),
    ).toBe("404");
    expect(alertsReceived()).toEqual([]);

    // The carrier goes away: its pings go unanswered, the gateway goes DOWN, one "down" message.
    registrar.kill();
    await new Promise<void>((r) => registrar.once("exit", () => r()));
    await waitFor(
      () => `peer-ipauth to go DOWN in /metrics:\n${metrics()}`,
      90_000,
      () => /^freeswitch_sofia_gateway_status\{[^}]*name="peer-ipauth"[^}]*\} 0$/m.test(metrics()),
    );
    await waitFor(
      () => `an alert at the webhook: ${webhookLog}`,
      60_000,
      () => alertsReceived().length >= 1,
    );
    // It comes back: one "up" message.
    await startRegistrar();
    await waitFor(
      () => `peer-ipauth to come back UP in /metrics:\n${metrics()}`,
      90_000,
      () => /^freeswitch_sofia_gateway_status\{[^}]*name="peer-ipauth"[^}]*\} 1$/m.test(metrics()),
    );
    await waitFor(
      () => `a second alert at the webhook: ${webhookLog}`,
      60_000,
      () => alertsReceived().length >= 2,
    );
    await new Promise((r) => setTimeout(r, 5000));
    const alerts = alertsReceived();
    expect(alerts.map((a) => `${a.event} ${a.trunk}`)).toEqual(["trunk-down peer-ipauth", "trunk-up peer-ipauth"]);
    expect(alerts[0]).toMatchObject({ authorization: `Bearer ${WEBHOOK_TOKEN}`, pingStatus: "DOWN" });
    expect(Date.parse(alerts[0].since)).toBeLessThan(Date.now());
    expect(alerts[1]).toMatchObject({ pingStatus: "UP" });
    // The REGISTER trunk stayed registered throughout (its registration outlives the outage).
    expect(metrics()).toMatch(
      /^freeswitch_sofia_gateway_state\{[^}]*name="peer-register"[^}]*state="REGED"[^}]*\} 1$/m,
    );
  });

  it("2a. changes nothing on a second up without a change", () => {
    const steps = cli.previewSteps();
    expect(steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${urnName(s.urn)}`)).toEqual([]);
    pulumi(["up", "--yes", "--expect-no-changes"]);
  });

  it("2b. plans exactly the change table's steps for a trunk added, an ACL range and a trunk password changed, and applies them", async () => {
    pulumi(["config", "set", "--path", "telephony:trunks.peer-second.preset", "generic"]);
    const second = {
      profile: "external-ipv4",
      family: "ipv4",
      register: "false",
      proxy: E2E_NETWORK.secondPeer.ipv4,
      outboundProxy: E2E_NETWORK.secondPeer.ipv4,
    };
    for (const [k, v] of Object.entries(second))
      pulumi(["config", "set", "--path", `telephony:trunks.peer-second.${k}`, v]);
    pulumi(["config", "set", "--path", "telephony:trunks.peer-second.sourceRanges[0]", "198.51.100.6/32"]);
    pulumi(["config", "set", "--path", "telephony:trunks.peer-second.signaling[0].port", "5060"]);
    pulumi(["config", "set", "--path", "telephony:trunks.peer-second.signaling[0].protocol", "udp"]);
    pulumi(["config", "set", "--path", "telephony:trunks.peer-ipauth.sourceRanges[0]", "198.51.100.4/30"]);
    pulumi([
      "config",
      "set",
      "--secret",
      "--path",
      "telephony:secrets.trunkPasswords.peer-register",
      PASSWORDS.rotated,
    ]);
    writeFileSync(passwordFile, PASSWORDS.rotated);

    const steps = cli.previewSteps().filter((s) => s.op !== "same");
    // README, "On the host": the trunk set (API: rescan, killgw for the changed gateway), the ACL,
    // the UFW script, fail2ban (its ignoreip lists every trunk range), and the verification, which
    // runs again as a new step (a changed trigger replaces a command; it has nothing to remove).
    // No container, no other file group.
    expect(steps.map((s) => `${s.op} ${urnName(s.urn)}`).sort()).toEqual([
      "replace verify-sofia-status",
      "update config-api-sync-trunks",
      "update files-acl",
      "update files-fail2ban",
      "update files-host-firewall",
    ]);
    const diff = pulumi(["preview", "--diff"]).stdout;
    expect(diff).toContain("198.51.100.4/30");

    const before = ssh(spec, `docker inspect -f '{{.Id}}' ${API_CONTAINER} ${FREESWITCH_CONTAINER}`);
    registrarLog = "";
    pulumi(["up", "--yes", "--skip-preview"]);
    expect(ssh(spec, `docker inspect -f '{{.Id}}' ${API_CONTAINER} ${FREESWITCH_CONTAINER}`)).toBe(before);
    expect(resourceOutputs("verify-sofia-status").stdout).toContain("all profiles running");
    // The registrar now takes only the new password: the old gateway's un-REGISTER (old password,
    // logged as UNREGISTER) may be refused and may arrive after the new gateway's first REGISTER;
    // the registration that counts, the last REGISTER, is accepted.
    await registered();
    expect(
      registrarLog
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("REGISTER"))
        .at(-1),
    ).toBe(REGISTERED);
    expect(readyz()).toMatchObject({ trunks: 3 });
    expect(ssh(spec, `cat ${HOST_PATHS.freeswitchConf}/autoload_configs/acl.conf.xml`)).toContain("198.51.100.4/30");
  });

  it("3. reports a FreeSWITCH container removed by hand on refresh, and the next up puts it back", () => {
    ssh(spec, `docker rm -f ${FREESWITCH_CONTAINER}`);
    const refresh = pulumi(["refresh", "--yes", "--skip-preview", "--diff"]).stdout;
    expect(refresh).toMatch(
      /~ pulumi-nodejs:dynamic:Resource: \(update\)\s+\[id=[^\]]*\]\s+\[urn=\S*::freeswitch-running\]/,
    );
    expect(refresh).toMatch(/~ running\s*: true => false/);

    const steps = cli.previewSteps().filter((s) => s.op !== "same");
    expect(steps.map((s) => `${s.op} ${urnName(s.urn)}`).sort()).toEqual([
      "replace verify-sofia-status",
      "update freeswitch-running",
    ]);
    pulumi(["up", "--yes", "--skip-preview"]);
    expect(running(FREESWITCH_CONTAINER)).toBe("true");
    expect(resourceOutputs("verify-sofia-status").stdout).toContain("all profiles running");
    expect(gatewayState("peer-register")).toBe("REGED");
  });

  it("4. brings the stack back onto a host rebuilt empty at the same address, with the README's procedure", async () => {
    const lostMachine = resourceOutputs("host-bootstrap").stdout.trim();
    destroyHost(spec);
    await prepareHost();
    expect(ssh(spec, `test -e ${HOST_PATHS.freeswitchConf} && echo present || echo empty`).trim()).toBe("empty");

    const urn = /urn:pulumi:\S*host-bootstrap/.exec(pulumi(["stack", "--show-urns"]).stdout)?.[0];
    expect(urn).toBeDefined();
    registrarLog = "";
    pulumi(["up", "--yes", "--skip-preview", "--replace", urn!]);
    expect(resourceOutputs("host-bootstrap").stdout.trim()).not.toBe(lostMachine);
    expect(running(API_CONTAINER)).toBe("true");
    expect(running(FREESWITCH_CONTAINER)).toBe("true");
    expect(readyz()).toMatchObject({ trunks: 3, extensions: 1 });
    expect(resourceOutputs("verify-sofia-status").stdout).toContain("all profiles running");
    await registered();
    pulumi(["up", "--yes", "--expect-no-changes"]);
  });

  it("5. pulumi destroy removes what the stack put on the host", () => {
    pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(ssh(spec, "docker ps -aq").trim()).toBe("");
    expect(ssh(spec, "docker images --format '{{.Repository}}' | grep -c '^telephony' || true").trim()).toBe("0");
    expect(ssh(spec, "ls /srv/telephony /etc/fail2ban/jail.d/freeswitch-telephony.conf 2>&1 || true")).toMatch(
      /No such file.*\n.*No such file/,
    );
    expect(ssh(spec, "fail2ban-client status")).toMatch(/Jail list:\s+sshd\s*$/m);
  });

  it("keeps every secret out of the CLI's output and the state", () => {
    const state = transcript.join("\n");
    expect(adminToken).toMatch(/\S{16,}/);
    const keyBody = keys.privateKey.split("\n")[1];
    for (const secret of [PASSWORDS.first, PASSWORDS.rotated, adminToken, keyBody]) {
      expect(state).not.toContain(secret);
      for (const out of transcript) expect(out).not.toContain(secret);
    }
  });
});
