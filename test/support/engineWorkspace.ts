/**
 * A real Pulumi engine run in a throwaway copy of the project: its own file backend, passphrase and
 * plugin home, so nothing touches the checkout (stack commands write Pulumi.<stack>.yaml), the
 * user's login or another run. Every command's output is kept, to be searched for secrets.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { PROJECT_DIR } from "./stackConfig";


/** Where the engine comes from (the pinned `pulumi` on PATH; see test/engine/globalSetup.ts). */
export interface Engine {
  /** Directory holding `pulumi` (and, for a hand-built engine, the language host and plugins). */
  readonly bin: string;
}

export interface CommandResult {
  readonly command: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr together, for reading and searching. */
  readonly output: string;
}

/** Top-level entries of the checkout that are not part of the project the engine runs. */
const NOT_COPIED = new Set(["node_modules", ".git", "out", "dist", ".pulumi"]);

export class Workspace {
  readonly dir: string;
  readonly stateDir: string;
  /** Every command run here, with its output. */
  readonly transcript: CommandResult[] = [];
  private readonly env: NodeJS.ProcessEnv;

  /**
   * A copy of the project in `root/name` (node_modules linked, not copied) with its own state.
   * `keepStackFiles` names the Pulumi.<stack>.yaml files the copy keeps; the others are left out.
   */
  constructor(engine: Engine, root: string, name: string, keepStackFiles: readonly string[]) {
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
    symlinkSync(join(PROJECT_DIR, "node_modules"), join(this.dir, "node_modules"));

    const home = join(root, name, "pulumi-home");
    // An engine built by hand may carry its plugins beside the CLI: then the CLI's home can be
    // throwaway too (and no plugin download is ever attempted). A CLI installed the usual way keeps
    // its home, where it caches the plugins it downloads.
    const selfContained = existsSync(join(engine.bin, "pulumi-resource-hcloud"));
    this.env = {
      ...process.env,
      // A Pulumi CLI release ships pulumi-resource-pulumi-nodejs (the host of dynamic providers, such
      // as the drift check's) beside the CLI; a hand-built engine may lack it, the SDK package carries it.
      PATH: [engine.bin, ...(selfContained ? [join(PROJECT_DIR, "node_modules", "@pulumi", "pulumi")] : []), process.env.PATH ?? ""].join(":"),
      PULUMI_BACKEND_URL: `file://${this.stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64url"),
      PULUMI_SKIP_UPDATE_CHECK: "1",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      ...(selfContained ? { PULUMI_HOME: home, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" } : {}),
      // Whatever the caller's shell has: this run talks to nothing but its file backend.
      PULUMI_ACCESS_TOKEN: "",
      HCLOUD_TOKEN: "",
      NO_COLOR: "1",
    };
  }

  /**
   * Runs `pulumi <args>` in the copy; throws with the output unless it exits 0 (or `allowFailure`).
   * `secretOutput`: the output holds secrets in plaintext (`--show-secrets`), so it is neither
   * kept in the transcript nor shown on failure.
   */
  pulumi(args: readonly string[], options: { stdin?: string; allowFailure?: boolean; secretOutput?: boolean } = {}): CommandResult {
    const run = spawnSync("pulumi", [...args, "--non-interactive", "--color", "never"], {
      cwd: this.dir,
      env: this.env,
      input: options.stdin,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.error) throw run.error;
    const result: CommandResult = {
      command: `pulumi ${args.join(" ")}`,
      code: run.status ?? -1,
      stdout: run.stdout,
      stderr: run.stderr,
      output: `${run.stdout}\n${run.stderr}`,
    };
    if (!options.secretOutput) this.transcript.push(result);
    if (result.code !== 0 && !options.allowFailure) {
      throw new Error(`${result.command} exited ${result.code}${options.secretOutput ? " (output withheld: it holds secrets)" : `:\n${result.output}`}`);
    }
    return result;
  }

  /** `pulumi config set --secret`, the value on stdin so it is in no process list or transcript line. */
  setSecret(key: string, value: string, path = false): void {
    this.pulumi(["config", "set", "--secret", ...(path ? ["--path"] : []), key], { stdin: value });
  }

  /** Every file the engine keeps for this workspace: the backend's state and the stack files. */
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
      if (/^Pulumi\..+\.yaml$/.test(entry)) files.push({ path: join("project", entry), text: readFileSync(join(this.dir, entry), "utf8") });
    }
    return files;
  }

  remove(): void {
    rmSync(join(this.dir, ".."), { recursive: true, force: true });
  }
}
