/**
 * Drift on the host made visible: a container started by a remote command is invisible to
 * `pulumi refresh` (@pulumi/command 1.2.1 has no read: refresh keeps whatever the state says).
 * This resource reads `docker inspect` over SSH whenever Pulumi reads it, so after someone
 * removes or stops the container by hand,
 *   pulumi refresh    reports it (`~ <name>-running`, `running: true → false`), and
 *   pulumi up         (after a refresh, or `pulumi up --refresh`) runs the container's own start
 *                     script again and reports the update; the verification then checks FreeSWITCH.
 * It creates and deletes nothing itself: the start command owns the container.
 *
 * A Pulumi dynamic provider (it runs in the deploying Node.js process, over ssh2), since neither
 * @pulumi/command nor a docker provider that could run here reads the container back (docs/deployment.md,
 * "On the host").
 */
import * as pulumi from "@pulumi/pulumi";
import type { SshConnection } from "./hostStep";

export interface RunningContainerArgs {
  readonly connection: SshConnection;
  readonly container: string;
  /** The start step's own script: what puts the container back. */
  readonly startScript: pulumi.Input<string>;
}

interface State {
  readonly connection: { host: string; port?: number; user?: string; privateKey: string };
  readonly container: string;
  readonly startScript: string;
  readonly running: boolean;
  readonly containerId: string;
}

/** Runs a script with bash over SSH (script on stdin); resolves with the exit code and output. */
function runOverSsh(
  connection: State["connection"],
  script: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- required here, not imported: the provider is serialized and runs in its own process
  const { Client } = require("ssh2") as typeof import("ssh2");
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on("ready", () =>
        client.exec("bash -s", (err, stream) => {
          if (err) {
            client.end();
            return reject(err);
          }
          // Decoded once at the end: a UTF-8 character may be split across two chunks.
          const stdout: Buffer[] = [];
          const stderr: Buffer[] = [];
          stream.on("data", (d: Buffer) => stdout.push(d));
          stream.stderr.on("data", (d: Buffer) => stderr.push(d));
          stream.on("close", (code: number) => {
            client.end();
            resolve({
              code,
              stdout: Buffer.concat(stdout).toString("utf8"),
              stderr: Buffer.concat(stderr).toString("utf8"),
            });
          });
          stream.end(script);
        }),
      )
      .on("error", reject)
      .connect({
        host: connection.host,
        port: connection.port ?? 22,
        username: connection.user ?? "root",
        privateKey: connection.privateKey,
        readyTimeout: 30_000,
      });
  });
}

async function inspect(s: Pick<State, "connection" | "container">): Promise<Pick<State, "running" | "containerId">> {
  const r = await runOverSsh(
    s.connection,
    `docker inspect -f '{{.State.Running}} {{.Id}}' ${s.container} 2>/dev/null || echo 'false -'`,
  );
  if (r.code !== 0)
    throw new Error(`docker inspect ${s.container} on ${s.connection.host} failed (${r.code}): ${r.stderr.trim()}`);
  const [running, id] = r.stdout.trim().split(" ");
  return { running: running === "true", containerId: id === "-" ? "" : id };
}

async function ensureRunning(s: State): Promise<State> {
  const now = await inspect(s);
  if (now.running) return { ...s, ...now };
  const r = await runOverSsh(s.connection, s.startScript);
  if (r.code !== 0)
    throw new Error(
      `${s.container} was not running on ${s.connection.host}; starting it again failed (${r.code}): ${r.stderr.trim()}`,
    );
  const after = await inspect(s);
  if (!after.running)
    throw new Error(`${s.container} is still not running on ${s.connection.host} after its start script`);
  return { ...s, ...after };
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: State) {
    const state = await ensureRunning(inputs);
    return { id: `${inputs.connection.host}/${inputs.container}`, outs: state };
  },
  async read(id: string, props: State) {
    return { id, props: { ...props, ...(await inspect(props)) } };
  },
  async diff(_id: string, olds: State, news: State) {
    const drifted = olds.running !== true;
    const changed =
      olds.startScript !== news.startScript ||
      olds.container !== news.container ||
      olds.connection.host !== news.connection.host;
    return { changes: drifted || changed };
  },
  async update(_id: string, _olds: State, news: State) {
    return { outs: await ensureRunning(news) };
  },
};

export class RunningContainer extends pulumi.dynamic.Resource {
  declare readonly running: pulumi.Output<boolean>;
  declare readonly containerId: pulumi.Output<string>;

  constructor(name: string, args: RunningContainerArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        connection: args.connection,
        container: args.container,
        startScript: args.startScript,
        running: undefined,
        containerId: undefined,
      },
      // The connection holds the private key: secret in the state too.
      { ...opts, additionalSecretOutputs: ["connection"] },
    );
  }
}
