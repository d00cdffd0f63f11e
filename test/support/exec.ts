/** Running a command and taking its output, for the real suites: to the end (sh), or asynchronously (shAsync). */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Runs `cmd` to the end (stdin from `input`) and returns its stdout; throws when it exits non-zero. */
export const sh = (cmd: string, args: readonly string[], input?: string | Buffer): string =>
  execFileSync(cmd, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });

/** Runs `cmd` (stdin from `input`, when given) and resolves with its stdout; rejects with its stderr when it exits non-zero. */
export const shAsync = async (cmd: string, args: string[], input?: string): Promise<string> => {
  if (input === undefined) return (await run(cmd, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolvePromise(stdout)
        : reject(new Error(`${cmd} ${args.join(" ").slice(0, 200)} exited ${code}: ${stderr.trim()}`)),
    );
    child.stdin.end(input);
  });
};

/** The docker client. */
export const docker = (...args: string[]) => shAsync("docker", args);

/** Ends a child started detached (its own process group) and everything it started; nothing if it has exited. */
export function stopProcessGroup(child: ChildProcess): void {
  if (child.exitCode !== null || !child.pid) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    /* already gone */
  }
}
