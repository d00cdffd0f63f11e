/** Running a command and taking its output, for the real suites. */
import { execFileSync } from "node:child_process";

/** Runs `cmd` to the end (stdin from `input`) and returns its stdout; throws when it exits non-zero. */
export const sh = (cmd: string, args: readonly string[], input?: string | Buffer): string =>
  execFileSync(cmd, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
