/**
 * The stacks on a real Pulumi engine, as a user meets them: `pulumi preview --diff` with the policy
 * pack of every stack file (prod, staging) and of a clone made exactly as the README's "Cloning an
 * environment" says, each on a file backend with a passphrase and dummy secrets set with the
 * README's "First deploy" commands. The generated secrets (random passwords, the deploy key) are made
 * for real by a targeted `pulumi up` of their resources, which runs offline.
 *
 * Asserted per stack: the commands succeed; no warning or error but the engine's expected ones;
 * the plan equals the golden list in test/engine/golden/<stack>.txt (regenerate with
 * UPDATE_ENGINE_GOLDEN=1 npm run test:engine), plus what must hold whatever resources are added;
 * no dummy or generated secret in any output or state file. And the policy pack blocks a stack
 * file that opens SIP to the world.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, stringify } from "yaml";
import { readmeCloneCommands, words } from "../support/readmeClone";
import {
  planLines,
  plannedSteps,
  readGolden,
  secretStrings,
  unexpectedDiagnostics,
  type PlannedStep,
} from "../support/previewPlan";
import { PulumiSandbox, type CommandResult } from "../support/pulumiSandbox";
import { PROJECT_DIR } from "../support/environment";

const engineBin = inject("pulumiEngineBin");
const GOLDEN_DIR = join(__dirname, "golden");
const UPDATE_GOLDEN = process.env.UPDATE_ENGINE_GOLDEN === "1";

/** The `pulumi config set --secret ...` commands of the README's "First deploy", as key and --path. */
function readmeFirstDeploySecrets(): { key: string; path: boolean }[] {
  const section = readFileSync(join(PROJECT_DIR, "docs", "operations.md"), "utf8")
    .split(/^## First deploy$/m)[1]
    ?.split(/^## /m)[0];
  if (!section) throw new Error('docs/operations.md has no "## First deploy" section');
  return [...section.matchAll(/`pulumi config set --secret ([^`]+)`/g)].map((m) => {
    const args = words(m[1]);
    const path = args[0] === "--path";
    const [key, value] = path ? args.slice(1) : args;
    if (!/^<[^>]+>$/.test(value ?? ""))
      throw new Error(`README first-deploy secret without a <placeholder> value: ${m[0]}`);
    return { key, path };
  });
}

const FIRST_DEPLOY_SECRETS = readmeFirstDeploySecrets();
/** A dummy per secret key, fresh per run, so a hit in any output can only come from this run. */
const DUMMY_SECRETS: Record<string, string> = Object.fromEntries(
  // Tokens (Hetzner's: the Cloud project's and the DNS zone's) are 64 characters, as the provider checks.
  FIRST_DEPLOY_SECRETS.map(({ key }) => [
    key,
    /token$/i.test(key) ? randomBytes(32).toString("hex") : `dummy-${randomBytes(16).toString("base64url")}`,
  ]),
);

/** standby's own secret: not among the first-deploy secrets of a stack without standby. */
const FLOATING_IP_TOKEN_KEY = "telephony:secrets.hetznerFloatingIpToken";
const FLOATING_IP_TOKEN = randomBytes(32).toString("hex");

const SERVER = "hcloud:index/server:Server";
const PRIMARY_IP = "hcloud:index/primaryIp:PrimaryIp";
const FIREWALL = "hcloud:index/firewall:Firewall";
const SSH_KEY = "hcloud:index/sshKey:SshKey";
const COMMAND = "command:remote:Command";

/** The README's "First deploy" secrets, each set as it says (the value on stdin instead of the command line). */
function setDummySecrets(ws: PulumiSandbox): void {
  for (const { key, path } of FIRST_DEPLOY_SECRETS) ws.setSecret(key, DUMMY_SECRETS[key], path);
}

/** The `pulumi ...` commands of the README's "Cloning an environment" block, as arguments. */
function readmeClonePulumiCommands(): string[][] {
  return readmeCloneCommands()
    .map(words)
    .filter((w) => w[0] === "pulumi")
    .map((w) => w.slice(1));
}

interface StackRun {
  readonly stack: string;
  readonly ws: PulumiSandbox;
  /** The commands run for this stack, from `stack init` on. */
  readonly commands: CommandResult[];
  /** The preview after the generated secrets exist. */
  readonly preview: CommandResult;
  readonly steps: PlannedStep[];
  /** The stack outputs the targeted update recorded (those that depend on config only are known). */
  readonly outputs: Record<string, unknown>;
  /** Plaintext of every secret the stack holds (dummy and generated), for searching. */
  readonly secrets: Set<string>;
}

/**
 * Every line of the CLI's output and the state files that holds one of the stack's secrets, said
 * without the secret itself: where, and the line with the value masked.
 */
function secretsShown(run: StackRun): string[] {
  const places = [
    ...run.ws.transcript.map((r) => ({ where: `output of ${r.command}`, text: r.output })),
    ...run.ws.stateFiles().map((f) => ({ where: f.path, text: f.text })),
  ];
  return [...run.secrets].flatMap((secret) =>
    places.flatMap(({ where, text }) =>
      text
        .split("\n")
        .filter((line) => line.includes(secret))
        .map((line) => `${where}: ${line.split(secret).join("<SECRET>").trim().slice(0, 200)}`),
    ),
  );
}

const preview = (ws: PulumiSandbox) => ws.pulumi(["preview", "--diff", "--show-sames", "--policy-pack", "policy"]);

/**
 * Preview a fresh stack, create its generated secrets with a targeted `pulumi up` (random and tls
 * resources need no cloud), preview again, and read back every secret the stack now holds.
 */
function runStack(ws: PulumiSandbox, stack: string, firstCommand: number): StackRun {
  const planned = plannedSteps(preview(ws).output);
  const generators = planned.filter((s) => /^(random|tls):/.test(s.type));
  expect(generators.length, "random passwords and the deploy key").toBeGreaterThan(0);
  // A targeted resource's parent must be targeted too, and so must the parent of an explicit
  // provider (which the engine always targets): so every component, none of which makes anything.
  const typeChain = (urn: string) => urn.split("::")[2];
  const parents = planned.filter((s) => planned.some((c) => typeChain(c.urn).startsWith(`${typeChain(s.urn)}$`)));
  ws.pulumi(["up", "--yes", "--skip-preview", ...[...parents, ...generators].flatMap((s) => ["--target", s.urn])]);
  const outputs = JSON.parse(ws.pulumi(["stack", "output", "--json"]).stdout) as Record<string, unknown>;
  const second = preview(ws);
  const exported = JSON.parse(ws.pulumi(["stack", "export", "--show-secrets"], { secretOutput: true }).stdout);
  const secrets = secretStrings(exported);
  for (const value of Object.values(DUMMY_SECRETS)) secrets.add(value);
  return {
    stack,
    ws,
    commands: ws.transcript.slice(firstCommand),
    preview: second,
    steps: plannedSteps(second.output),
    outputs,
    secrets,
  };
}

const byType = (run: StackRun, type: string) => run.steps.filter((s) => s.type === type);

describe.skipIf(!engineBin)("the stacks on a real Pulumi engine", () => {
  let root: string;
  const runs: Record<string, StackRun> = {};
  let blocked: CommandResult;
  let standby: StackRun;
  /** standby: the JSON preview's planned states (inputs, protect) by resource name. */
  let standbyStates: Record<string, { protect?: boolean; inputs?: Record<string, any> }>;

  it("sets the README's first-deploy secrets: the Hetzner token and the 1&1 password at least", () => {
    expect(FIRST_DEPLOY_SECRETS.map((s) => s.key)).toEqual(
      expect.arrayContaining([
        "hcloud:token",
        "telephony:secrets.trunkPasswords.oneandone",
        "telephony:secrets.signalwireToken",
      ]),
    );
  });

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "eng-"));

    // The stack files as they are in the repository.
    const files = new PulumiSandbox({ engineBin, root, name: "stack-files", keepStackFiles: ["prod", "staging"] });
    for (const stack of ["prod", "staging"]) {
      const first = files.transcript.length;
      files.pulumi(["stack", "init", stack]);
      setDummySecrets(files);
      runs[stack] = runStack(files, stack, first);
    }

    // A clone of prod made with the README's commands in a checkout holding only prod's file.
    const cloning = new PulumiSandbox({ engineBin, root, name: "clone", keepStackFiles: ["prod"] });
    cloning.pulumi(["stack", "init", "prod"]);
    setDummySecrets(cloning);
    const commands = readmeClonePulumiCommands();
    const init = commands.find((args) => args[0] === "stack" && args[1] === "init");
    if (!init) throw new Error("README clone steps have no `pulumi stack init`");
    const first = cloning.transcript.length;
    for (const args of commands) cloning.pulumi(args);
    runs.clone = runStack(cloning, init[2], first);

    // prod's file with a standby host, and the standby's own token set as docs/standby.md says.
    const pair = new PulumiSandbox({ engineBin, root, name: "standby", keepStackFiles: ["prod"] });
    const prodFile = join(pair.dir, "Pulumi.prod.yaml");
    const prodDoc = parse(readFileSync(prodFile, "utf8"));
    prodDoc.config["telephony:standby"] = { enabled: true };
    writeFileSync(prodFile, stringify(prodDoc));
    const pairFirst = pair.transcript.length;
    pair.pulumi(["stack", "init", "prod"]);
    setDummySecrets(pair);
    pair.setSecret(FLOATING_IP_TOKEN_KEY, FLOATING_IP_TOKEN, true);
    standby = runStack(pair, "prod", pairFirst);
    standby.secrets.add(FLOATING_IP_TOKEN);
    const json = JSON.parse(pair.pulumi(["preview", "--json"]).stdout) as {
      steps?: { urn: string; newState?: { protect?: boolean; inputs?: Record<string, any> } }[];
    };
    standbyStates = Object.fromEntries(
      (json.steps ?? []).map((step) => [step.urn.split("::").pop()!, step.newState ?? {}]),
    );

    // The staging file opening SIP to a /7 around Plusnet's proxy: wide enough for the policy pack
    // to count as the world, narrow enough for the program's own checks to accept it.
    const open = new PulumiSandbox({ engineBin, root, name: "open-sip", keepStackFiles: ["staging"] });
    const stagingFile = join(open.dir, "Pulumi.staging.yaml");
    const doc = parse(readFileSync(stagingFile, "utf8"));
    doc.config["telephony:trunks"].plusnet.sourceRanges = ["92.0.0.0/7"];
    writeFileSync(stagingFile, stringify(doc));
    open.pulumi(["stack", "init", "staging"]);
    setDummySecrets(open);
    blocked = open.pulumi(["preview", "--diff", "--policy-pack", "policy"], { allowFailure: true });
  });

  afterAll(() => {
    if (root && !process.env.KEEP_ENGINE_TEST_DIR) rmSync(root, { recursive: true, force: true });
  });

  const STACKS = ["prod", "staging", "clone"] as const;

  it.each(STACKS)("%s: every command succeeds without a warning or error of the project's making", (name) => {
    const run = runs[name];
    for (const result of run.commands) {
      expect(result.code, result.command).toBe(0);
      expect(unexpectedDiagnostics(result.output), `${result.command}\n${result.output}`).toEqual([]);
    }
    expect(run.preview.output).toMatch(/telephony-guardrails/);
  });

  it.each(STACKS)("%s: plans the resources in test/engine/golden/<stack>.txt", (name) => {
    const run = runs[name];
    const golden = join(GOLDEN_DIR, `${name}.txt`);
    const lines = planLines(run.steps);
    if (UPDATE_GOLDEN) {
      mkdirSync(GOLDEN_DIR, { recursive: true });
      writeFileSync(
        golden,
        `# ${name}: pulumi preview --diff after a targeted up of the generated secrets. Regenerate: UPDATE_ENGINE_GOLDEN=1 npm run test:engine\n${lines.join("\n")}\n`,
      );
    }
    expect(lines).toEqual(readGolden(golden));
  });

  it.each(STACKS)("%s: plans every Hetzner resource and every host step, creating only", (name) => {
    const run = runs[name];
    expect(run.steps.map((s) => s.op).filter((op) => op !== "create" && op !== "same")).toEqual([]);
    expect(byType(run, SERVER)).toHaveLength(1);
    expect(
      byType(run, PRIMARY_IP)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["addresses-ipv4", "addresses-ipv6"]);
    expect(byType(run, FIREWALL)).toHaveLength(1);
    expect(byType(run, SSH_KEY)).toHaveLength(1);
    // The same Hetzner resources as production's: a copy owns one of each.
    const hetzner = (r: StackRun) =>
      r.steps
        .filter((s) => s.type.startsWith("hcloud:"))
        .map((s) => `${s.type} ${s.name}`)
        .sort();
    expect(hetzner(run)).toEqual(hetzner(runs.prod));
    for (const step of [
      "host-cloud-init",
      "host-authorized-keys",
      "config-api-sync-trunks",
      "config-api-sync-extensions",
      "freeswitch-container",
    ]) {
      expect(
        byType(run, COMMAND).map((s) => s.name),
        step,
      ).toContain(step);
    }
  });

  it("verifies the host after each update in production only", () => {
    expect(byType(runs.prod, COMMAND).map((s) => s.name)).toContain("verify-sofia-status");
    expect(byType(runs.staging, COMMAND).map((s) => s.name)).not.toContain("verify-sofia-status");
    expect(byType(runs.clone, COMMAND).map((s) => s.name)).not.toContain("verify-sofia-status");
  });

  it("serves the REGISTER trunk only from the stack its activeInStacks names: not from a clone", () => {
    const served = (run: StackRun) =>
      Object.values(run.outputs.gateways as Record<string, string[]>)
        .flat()
        .sort();
    expect((runs.prod.outputs.gateways as Record<string, string[]>).internal).toContain("oneandone");
    expect(served(runs.prod)).toEqual(["oneandone", "plusnet"]);
    expect(served(runs.clone)).toEqual(["plusnet"]);
    expect(served(runs.staging)).toEqual(["plusnet"]);
  });

  it.each(STACKS)("%s: no dummy or generated secret in any output or state file", (name) => {
    const run = runs[name];
    expect(run.secrets.size, "generated secrets besides the dummies").toBeGreaterThan(
      Object.keys(DUMMY_SECRETS).length,
    );
    expect(secretsShown(run)).toEqual([]);
  });

  describe("prod with a standby host", () => {
    const names = (type: string) =>
      byType(standby, type)
        .map((s) => s.name)
        .sort();

    it("runs every command without a warning or error of the project's making, creating only", () => {
      for (const result of standby.commands) {
        expect(result.code, result.command).toBe(0);
        expect(unexpectedDiagnostics(result.output), `${result.command}\n${result.output}`).toEqual([]);
      }
      expect(standby.preview.output).toMatch(/telephony-guardrails/);
      expect(standby.steps.map((s) => s.op).filter((op) => op !== "create" && op !== "same")).toEqual([]);
    });

    it("plans the resources in test/engine/golden/standby.txt", () => {
      const golden = join(GOLDEN_DIR, "standby.txt");
      const lines = planLines(standby.steps);
      if (UPDATE_GOLDEN)
        writeFileSync(
          golden,
          `# prod with telephony:standby {enabled: true}: pulumi preview --diff after a targeted up of the generated secrets. Regenerate: UPDATE_ENGINE_GOLDEN=1 npm run test:engine\n${lines.join("\n")}\n`,
        );
      expect(lines).toEqual(readGolden(golden));
    });

    it("plans two servers in a spread placement group on a private network, and the floating IPs with their reverse DNS", () => {
      expect(names(SERVER)).toEqual(["host-server", "standby-host-server"]);
      expect(names("hcloud:index/placementGroup:PlacementGroup")).toEqual(["standby-placement"]);
      expect(names("hcloud:index/network:Network")).toEqual(["standby-network"]);
      expect(names("hcloud:index/networkSubnet:NetworkSubnet")).toEqual(["standby-subnet"]);
      expect(names("hcloud:index/serverNetwork:ServerNetwork")).toEqual([
        "host-private-network",
        "standby-host-private-network",
      ]);
      expect(names("hcloud:index/floatingIp:FloatingIp")).toEqual(["floating-ips-ipv4", "floating-ips-ipv6"]);
      // The primary IPs stay (the primary's SSH and outbound address) but carry no reverse DNS.
      expect(names(PRIMARY_IP)).toEqual(["addresses-ipv4", "addresses-ipv6"]);
      expect(names("hcloud:index/rdns:Rdns")).toEqual(["floating-ips-ipv4-ptr", "floating-ips-ipv6-ptr"]);
      expect(names(FIREWALL)).toHaveLength(1);
      expect(names(SSH_KEY)).toEqual(["host-deploy-key", "standby-host-deploy-key"]);
    });

    it("plans the floating IPs protected in the servers' location, the servers in the placement group on .2 and .3", () => {
      for (const name of ["floating-ips-ipv4", "floating-ips-ipv6"]) {
        expect(standbyStates[name]?.protect, name).toBe(true);
        expect(standbyStates[name]?.inputs, name).toMatchObject({ homeLocation: "fsn1", deleteProtection: true });
        expect(standbyStates[name]?.inputs, name).toHaveProperty("serverId");
      }
      for (const name of ["host-server", "standby-host-server"])
        expect(standbyStates[name]?.inputs, name).toHaveProperty("placementGroupId");
      expect(standbyStates["standby-placement"]?.inputs).toMatchObject({ type: "spread" });
      expect(standbyStates["standby-subnet"]?.inputs).toMatchObject({
        type: "cloud",
        networkZone: "eu-central",
        ipRange: "10.77.0.0/24",
      });
      expect(standbyStates["host-private-network"]?.inputs).toMatchObject({ ip: "10.77.0.2" });
      expect(standbyStates["standby-host-private-network"]?.inputs).toMatchObject({ ip: "10.77.0.3" });
    });

    it("deploys to both hosts, the standby's steps named standby-*, then enables the primary and the standby", () => {
      const commands = names(COMMAND);
      for (const step of [
        "files-keepalived",
        "freeswitch-container",
        "verify-sofia-status",
        "config-api-sync-trunks",
      ]) {
        expect(commands, step).toContain(step);
        expect(commands, step).toContain(`standby-${step}`);
      }
      expect(commands).toEqual(expect.arrayContaining(["ha-enable-primary", "ha-enable-standby"]));
    });

    it("shows both hosts and the rollout order in the outputs", () => {
      const out = standby.outputs.standby as Record<string, any>;
      expect(out.activeFirst).toBe("primary");
      expect(out.rolloutOrder).toEqual(["standby", "primary"]);
      expect(out.hosts.primary).toMatchObject({ serverName: "telephony-prod", privateIpv4: "10.77.0.2" });
      expect(out.hosts.standby).toMatchObject({ serverName: "telephony-prod-standby", privateIpv4: "10.77.0.3" });
    });

    it("leaves no dummy or generated secret, the floating-IP token included, in any output or state file", () => {
      expect(secretsShown(standby)).toEqual([]);
    });
  });

  it("blocks a stack file that opens SIP to the world, by the policy pack", () => {
    const policyLines = unexpectedDiagnostics(blocked.output);
    expect(blocked.code).not.toBe(0);
    // The program's own checks passed: it is the policy that stopped the preview.
    expect(
      policyLines.filter((l) => !/sip-not-open-to-world|opens SIP port|preview failed/i.test(l)),
      blocked.output,
    ).toEqual([]);
    expect(blocked.output).toMatch(/telephony-guardrails@v[\d.]+ \[mandatory\]\s+sip-not-open-to-world/);
    expect(blocked.output).toMatch(/opens SIP port 5060 to 92\.0\.0\.0\/7/);
  });
});
