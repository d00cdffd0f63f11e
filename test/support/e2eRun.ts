/**
 * What both end-to-end tests make per run besides the hosts: the SSH keys (the deploy key the
 * machines' owner authorized, and an admin key the stack installs) and the alerts webhook's
 * stand-in with the parser for what it received.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sh } from "./exec";

export interface RunKeys {
  /** Holds authorized_keys with the deploy key: what the machines' owner did before (mounted into the hosts). */
  readonly keyDir: string;
  readonly privateKeyFile: string;
  /** The deploy key's private half (OpenSSH format), for telephony:secrets.sshPrivateKey. */
  readonly privateKey: string;
  /** The admin key's public half, for telephony:host.sshPublicKeys. */
  readonly adminPublicKey: string;
}

/** Makes the run's deploy and admin keys in `dir` (comments `<run>-deploy`, `<run>-admin`). */
export function makeRunKeys(dir: string, run: string): RunKeys {
  const keyDir = join(dir, "authorized");
  mkdirSync(keyDir);
  for (const key of ["deploy", "admin"])
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${run}-${key}`, "-f", join(dir, key)]);
  copyFileSync(join(dir, "deploy.pub"), join(keyDir, "authorized_keys"));
  return {
    keyDir,
    privateKeyFile: join(dir, "deploy"),
    privateKey: readFileSync(join(dir, "deploy"), "utf8"),
    adminPublicKey: readFileSync(join(dir, "admin.pub"), "utf8").trim(),
  };
}

/** A webhook receiver (`node -e WEBHOOK_SERVER <host> <port>`): prints "listening", then per POST one JSON line {authorization, body}. */
export const WEBHOOK_SERVER = `
const [host, port] = process.argv.slice(1);
require("node:http").createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => { console.log(JSON.stringify({ authorization: req.headers.authorization ?? "", body })); res.end("ok"); });
}).listen(Number(port), host, () => console.log("listening"));
`;

/** The alerts the webhook stand-in printed (its output so far), in order, each with its Authorization header. */
export function webhookAlerts<T extends object>(log: string): (T & { authorization: string })[] {
  return log
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { authorization: string; body: string })
    .map((r) => ({ ...(JSON.parse(r.body) as T), authorization: r.authorization }));
}
