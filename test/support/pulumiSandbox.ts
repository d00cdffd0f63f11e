/**
 * A real Pulumi engine run in a throwaway copy of the project, for the engine previews and the
 * end-to-end deploy: its own file backend and passphrase, so nothing touches the checkout (stack
 * commands write Pulumi.<stack>.yaml), the user's login or another run. Every command's output is
 * kept, to be searched for secrets. The end-to-end deploy runs each command inside its network
 * namespace, so it reaches the disposable host and nothing else.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { basename, delimiter, dirname, join, relative } from "node:path";
import { PROJECT_DIR } from "./environment";

export interface CommandResult {
  readonly command: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr together, for reading and searching. */
  readonly output: string;
}

export interface SandboxOptions {
  /** Directory holding `pulumi` (and, for a hand-built engine, the language host and plugins). */
  readonly engineBin: string;
  /** The sandbox is `root/name`: the project copy in `project/`, the backend's state in `state/`. */
  readonly root: string;
  readonly name: string;
  /** The checkout's Pulumi.<stack>.yaml files the copy keeps; the others are left out. */
  readonly keepStackFiles: readonly string[];
  /** Stack files from elsewhere copied into the project (e.g. test/e2e/Pulumi.e2e.yaml). */
  readonly extraStackFiles?: readonly string[];
  /** Runs every command in this network namespace (`ip netns exec`, root). */
  readonly namespace?: string;
  /** A command still running after this long is killed (and fails). */
  readonly commandTimeoutMs?: number;
}

/** Top-level entries of the checkout that are not part of the project the engine runs. */
const NOT_COPIED = new Set(["node_modules", ".git", "out", "dist", ".pulumi"]);

export class PulumiSandbox {
  readonly dir: string;
  readonly stateDir: string;
  /** Every command run here, with its output (but for those whose output holds secrets). */
  readonly transcript: CommandResult[] = [];
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: SandboxOptions) {
    const { engineBin, root, name, keepStackFiles } = options;
    this.dir = join(root, name, "project");
    this.stateDir = join(root, name, "state");
    mkdirSync(this.stateDir, { recursive: true });
    mkdirSync(this.dir, { recursive: true });
    for (const entry of readdirSync(PROJECT_DIR)) {
      if (NOT_COPIED.has(entry)) continue;
      const stackFile = /^Pulumi\.(.+)\.yaml$/.exec(entry);
      if (stackFile && !keepStackFiles.includes(stackFile[1])) continue;
      cpSync(join(PROJECT_DIR, entry), join(this.dir, entry), { recursive: true });
    }
    for (const file of options.extraStackFiles ?? []) copyFileSync(file, join(this.dir, basename(file)));
    symlinkSync(join(PROJECT_DIR, "node_modules"), join(this.dir, "node_modules"));

    // An engine built by hand may carry its plugins beside the CLI: then the CLI's home can be
    // throwaway too (and no plugin download is ever attempted). A CLI installed the usual way keeps
    // its home, where it caches the plugins it downloads.
    const selfContained = existsSync(join(engineBin, "pulumi-resource-hcloud"));
    this.env = {
      ...process.env,
      // A Pulumi CLI release ships pulumi-resource-pulumi-nodejs (the host of dynamic providers, such
      // as the drift check's) beside the CLI; a hand-built engine may lack it, the SDK package carries it.
      // node itself: `ip netns exec` may run with a PATH that lacks it.
      PATH: [
        engineBin,
        join(PROJECT_DIR, "node_modules", "@pulumi", "pulumi"),
        dirname(process.execPath),
        process.env.PATH ?? "",
      ].join(delimiter),
      PULUMI_BACKEND_URL: `file://${this.stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64url"),
      PULUMI_SKIP_UPDATE_CHECK: "1",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      ...(selfContained
        ? { PULUMI_HOME: join(root, name, "pulumi-home"), PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" }
        : {}),
      // Whatever the caller's shell has: this run talks to nothing but its file backend.
      PULUMI_ACCESS_TOKEN: "",
      HCLOUD_TOKEN: "",
      NO_COLOR: "1",
    };
  }

  /**
   * Runs `pulumi <args>` in the copy and returns what it did, whatever its exit code.
   * `secretOutput`: the output holds secrets in plaintext (`--show-secrets`), so it is not kept in
   * the transcript.
   */
  run(args: readonly string[], options: { stdin?: string; secretOutput?: boolean } = {}): CommandResult {
    const pulumi = ["pulumi", ...args, "--non-interactive", "--color", "never"];
    const [command, ...commandArgs] = this.options.namespace
      ? ["ip", "netns", "exec", this.options.namespace, ...pulumi]
      : pulumi;
    const run = spawnSync(command, commandArgs, {
      cwd: this.dir,
      env: this.env,
      input: options.stdin,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      timeout: this.options.commandTimeoutMs,
    });
    const stderr = (run.stderr ?? "") + (run.error ? String(run.error) : "");
    const result: CommandResult = {
      command: `pulumi ${args.join(" ")}`,
      code: run.status ?? -1,
      stdout: run.stdout ?? "",
      stderr,
      output: `${run.stdout ?? ""}\n${stderr}`,
    };
    if (!options.secretOutput) this.transcript.push(result);
    return result;
  }

  /** Like run, but throws with the output unless the command exits 0 (or `allowFailure`); the output of `secretOutput` is withheld. */
  pulumi(
    args: readonly string[],
    options: { stdin?: string; allowFailure?: boolean; secretOutput?: boolean } = {},
  ): CommandResult {
    const result = this.run(args, options);
    if (result.code !== 0 && !options.allowFailure) {
      throw new Error(
        `${result.command} exited ${result.code}${options.secretOutput ? " (output withheld: it holds secrets)" : `:\n${result.output}`}`,
      );
    }
    return result;
  }

  /** `pulumi config set --secret`, the value on stdin so it is in no process list or transcript line. */
  setSecret(key: string, value: string, path = false): void {
    this.pulumi(["config", "set", "--secret", ...(path ? ["--path"] : []), key], { stdin: value });
  }

  /** The steps a preview plans, from `pulumi preview --json`. */
  previewSteps(
    extra: readonly string[] = [],
  ): { op: string; urn: string; diffReasons?: string[]; replaceReasons?: string[] }[] {
    const r = this.pulumi(["preview", "--json", ...extra]);
    return (
      (
        JSON.parse(r.stdout) as {
          steps?: { op: string; urn: string; diffReasons?: string[]; replaceReasons?: string[] }[];
        }
      ).steps ?? []
    );
  }

  /** Every file the engine keeps for this sandbox: the backend's state and the stack files. */
  stateFiles(): { path: string; text: string }[] {
    const files: { path: string; text: string }[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else files.push({ path: relative(join(this.dir, ".."), path), text: readFileSync(path, "latin1") });
      }
    };
    walk(this.stateDir);
    for (const entry of readdirSync(this.dir)) {
      if (/^Pulumi\..+\.yaml$/.test(entry))
        files.push({ path: join("project", entry), text: readFileSync(join(this.dir, entry), "utf8") });
    }
    return files;
  }

  remove(): void {
    rmSync(join(this.dir, ".."), { recursive: true, force: true });
  }
}

/** The resource name at the end of a URN ("...::files-acl" → "files-acl"). */
export const urnName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
