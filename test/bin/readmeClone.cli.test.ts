/**
 * The README's "Cloning an environment" block run as written with the real Pulumi CLI, on a
 * local file backend in a temporary directory (no cloud, no network): `pulumi stack init
 * --copy-config-from`, `pulumi config set`, then what `npm start -- <stack>` runs. Skipped when
 * no Pulumi CLI is found (on PATH, or the engine cache that .ci builds under
 * ${TELEPHONY_CACHE_DIR:-~/.cache/telephony}/pulumi-engine/bin).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { renderStackToDir } from "../../bin/render";
import { configSourceFromFile } from "../../bin/stackFile";
import { loadStack } from "../../sip/config";
import { readmeCloneCommands, words } from "../support/readmeClone";
import { PROJECT_DIR } from "../support/environment";

function findPulumi(): string | undefined {
  const cache = join(process.env.TELEPHONY_CACHE_DIR ?? join(homedir(), ".cache", "telephony"), "pulumi-engine", "bin");
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), cache]) {
    if (dir && existsSync(join(dir, "pulumi"))) return join(dir, "pulumi");
  }
  return undefined;
}

const pulumi = findPulumi();
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.skipIf(!pulumi)("the README's clone steps with the real Pulumi CLI", () => {
  it("make a staging stack that renders under its own name, overwriting an existing Pulumi.staging.yaml", () => {
    const dir = mkdtempSync(join(tmpdir(), "core-readme-clone-"));
    dirs.push(dir);
    mkdirSync(join(dir, "state"));
    for (const f of ["Pulumi.yaml", "Pulumi.prod.yaml"]) copyFileSync(join(PROJECT_DIR, f), join(dir, f));
    // A stale staging file with a value the copy must replace.
    writeFileSync(
      join(dir, "Pulumi.staging.yaml"),
      "config:\n  telephony:environment: production\n  telephony:rtp:\n    start: 20000\n    end: 20001\n",
    );
    const env = {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${join(dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "readme-clone-test",
      PULUMI_SKIP_UPDATE_CHECK: "1",
      PULUMI_HOME: join(dir, ".pulumi"),
    };
    const run = (args: string[]) => {
      const r = spawnSync(pulumi!, args, { cwd: dir, env, encoding: "utf8", timeout: 60_000 });
      expect(r.status, `pulumi ${args.join(" ")}: ${r.stderr}`).toBe(0);
    };
    // Prod as the README's "First deploy" leaves it: the stack exists and holds the trunk password.
    run(["stack", "init", "prod", "--secrets-provider", "passphrase"]);
    run(["config", "set", "--secret", "--path", "telephony:secrets.trunkPasswords.oneandone", "readme-clone-password"]);

    const rendered: string[] = [];
    for (const line of readmeCloneCommands()) {
      const w = words(line);
      if (w[0] === "pulumi") run(w.slice(1));
      else if (w[0] === "npm" && w[1] === "start") rendered.push(renderStackToDir(dir, w[3], join(dir, "out")).outDir);
      else throw new Error(`unexpected command in the README's clone steps: ${line}`);
    }

    expect(rendered).toEqual([join(dir, "out", "staging")]);
    const { model } = loadStack(configSourceFromFile(dir, "staging"));
    expect(model.environment).toBe("staging");
    expect(model.rtp).toMatchObject({ start: 16384, end: 16484 });
    expect(model.host.hostname).toBe("sip-staging.xynap.de");
    expect(model.ownsHostname).toBe(true);
    expect(model.trunks.find((t) => t.name === "oneandone")!.active).toBe(false);
    // The secrets came along, re-encrypted for the new stack.
    const staging = parse(readFileSync(join(dir, "Pulumi.staging.yaml"), "utf8"));
    expect(staging.config["telephony:secrets"].trunkPasswords.oneandone.secure).toEqual(expect.any(String));
    expect(readFileSync(join(dir, "out", "staging", "config-api", "gateways", "internal.xml"), "utf8")).not.toContain(
      "oneandone",
    );
  });
});
