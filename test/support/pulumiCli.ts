/**
 * A real Pulumi CLI for the end-to-end test: a file backend and a passphrase in the run's temp
 * dir, a copy of the project (never the checkout itself: `config set` writes Pulumi.<stack>.yaml),
 * every command run inside the test's network namespace so the deploy reaches the disposable host
 * and nothing else.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, symlinkSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";

const SKIP = new Set(["node_modules", ".git", "dist", "out"]);

/** Copies the project (sources, stack files, lock) and links its node_modules. */
export function copyProject(projectDir: string, dest: string): void {
  cpSync(projectDir, dest, { recursive: true, filter: (src) => !SKIP.has(relative(projectDir, src).split("/")[0]) });
  symlinkSync(join(projectDir, "node_modules"), join(dest, "node_modules"));
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class PulumiCli {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly workDir: string,
    readonly namespace: string,
    stateDir: string,
    engineBin: string,
    readonly passphrase: string,
  ) {
    mkdirSync(join(stateDir, "state"), { recursive: true });
    this.env = {
      ...process.env,
      // The dynamic provider's plugin (components/runningContainer.ts) ships in @pulumi/pulumi;
      // a Pulumi CLI release bundles it, a hand-built engine may not.
      PATH: [engineBin, join(workDir, "node_modules", "@pulumi", "pulumi"), dirname(process.execPath), process.env.PATH].join(delimiter),
      PULUMI_HOME: join(stateDir, "home"),
      PULUMI_BACKEND_URL: `file://${join(stateDir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "1",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      NO_COLOR: "1",
    };
  }

  /** Runs `pulumi <args>` in the namespace; never throws (the caller asserts on the result). */
  run(args: readonly string[], input?: string): CliResult {
    const result = spawnSync("ip", ["netns", "exec", this.namespace, "pulumi", ...args, "--non-interactive"], {
      cwd: this.workDir,
      env: this.env,
      input,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      timeout: 15 * 60_000,
    });
    return { code: result.status ?? -1, stdout: result.stdout ?? "", stderr: (result.stderr ?? "") + (result.error ? String(result.error) : "") };
  }

  /** Like run, but throws with the output when the command fails. */
  ok(args: readonly string[], input?: string): CliResult {
    const r = this.run(args, input);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-4000)}`);
    return r;
  }

  /** The steps a preview plans, from `pulumi preview --json`. */
  previewSteps(extra: readonly string[] = []): { op: string; urn: string; diffReasons?: string[]; replaceReasons?: string[] }[] {
    const r = this.ok(["preview", "--json", ...extra]);
    return (JSON.parse(r.stdout) as { steps?: { op: string; urn: string; diffReasons?: string[]; replaceReasons?: string[] }[] }).steps ?? [];
  }
}

/** The resource name at the end of a URN ("...::files-acl" → "files-acl"). */
export const urnName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
