/**
 * The disposable "server": a Debian 12 container booting systemd (image: e2eHost/build-image.sh),
 * started with the flags measured to work on these machines without --privileged or the host's
 * cgroup namespace, with its own Docker data volume, wired to the test's namespace at E2E_NETWORK.host.
 * The test reaches it over SSH as root with a key made for the run.
 */
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { E2E_NETWORK, wire } from "./namespaces";
import { sh } from "./exec";
import { waitFor } from "./waitFor";

const HERE = __dirname;

export interface HostSpec {
  /** Container and volume name prefix, e.g. "e2e-1a2b3c". */
  readonly name: string;
  readonly namespace: string;
  /** Directory holding authorized_keys (mounted read-only; boot.sh installs it for root). */
  readonly keyDir: string;
  /** The run's private key, for ssh from the test. */
  readonly privateKeyFile: string;
  readonly vethPrefix: string;
  /** Where ssh reaches the host (default: E2E_NETWORK.host's IPv4). */
  readonly address?: string;
  /** The container's host name (default: e2e-host). */
  readonly hostname?: string;
  /**
   * Wires the started container's network namespace (by its PID) into the test's network (default:
   * one veth to the controller namespace, at E2E_NETWORK.host), naming `links` inside.
   */
  readonly attach?: (containerPid: number) => void;
  /** The interfaces `attach` makes in the host: its boot waits for them before systemd starts. */
  readonly links?: readonly string[];
}

export function buildHostImage(): string {
  return execFileSync("bash", [join(HERE, "e2eHost", "build-image.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

const container = (spec: HostSpec) => `${spec.name}-host`;
const volume = (spec: HostSpec) => `${spec.name}-docker`;

/** Starts a fresh host (a new machine ID, new SSH host keys, empty Docker) and waits until SSH answers and systemd is up. */
export async function startHost(spec: HostSpec, image: string): Promise<void> {
  sh("docker", [
    "run",
    "-d",
    "--name",
    container(spec),
    "--hostname",
    spec.hostname ?? "e2e-host",
    "--network",
    "none",
    "--cap-add=ALL",
    "--cap-drop=SYS_RESOURCE",
    "--cgroupns=private",
    "--security-opt",
    "seccomp=unconfined",
    "--stop-signal",
    "SIGRTMIN+3",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    "--tmpfs",
    "/tmp",
    "-v",
    `${volume(spec)}:/var/lib/docker`,
    "-v",
    `${spec.keyDir}:/etc/e2e:ro`,
    ...(spec.links ? ["-e", `E2E_LINKS=${spec.links.join(" ")}`] : []),
    image,
  ]);
  await attachAndBoot(spec);
}

/** Wires the running container into the test's network and waits until SSH answers and systemd is up. */
async function attachAndBoot(spec: HostSpec): Promise<void> {
  const pid = Number(sh("docker", ["inspect", "-f", "{{.State.Pid}}", container(spec)]).trim());
  if (spec.attach) spec.attach(pid);
  else wire(spec.namespace, pid, spec.vethPrefix);
  await waitFor(
    () => `the host to finish booting: ${ssh(spec, "systemctl --failed --no-legend || true")}`,
    90_000,
    () => ["running", "degraded"].includes(ssh(spec, "systemctl is-system-running --wait || true").trim()),
    { everyMs: 500 },
  );
}

/** The machine loses power: the container (systemd, Docker, everything on it) is killed at once. */
export function killHost(spec: HostSpec): void {
  sh("docker", ["kill", container(spec)]);
}

/** The machine that lost power boots again with its disk as it was (its container started again). */
export async function restartHost(spec: HostSpec): Promise<void> {
  sh("docker", ["start", container(spec)]);
  await attachAndBoot(spec);
}

/** Removes the container and its Docker volume: the machine is gone. */
export function destroyHost(spec: HostSpec): void {
  for (const args of [
    ["rm", "-f", "-v", container(spec)],
    ["volume", "rm", "-f", volume(spec)],
  ]) {
    try {
      sh("docker", args);
    } catch {
      // already gone
    }
  }
}

const SSH_OPTIONS = [
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "LogLevel=ERROR",
  "-o",
  "ConnectTimeout=5",
  "-o",
  "BatchMode=yes",
];

/** `ip netns exec … ssh … root@host <command>`: the host as root, from the test's namespace. */
const sshArgs = (spec: HostSpec, command: string): string[] => [
  ...["netns", "exec", spec.namespace, "ssh", ...SSH_OPTIONS],
  ...["-i", spec.privateKeyFile, `root@${spec.address ?? E2E_NETWORK.host.ipv4}`, command],
];

/** Runs a shell command on the host as root, from the test's namespace. */
export function ssh(spec: HostSpec, command: string, input?: string): string {
  return sh("ip", sshArgs(spec, command), input);
}

/** `docker save IMAGE | ssh root@host docker load`: the host reaches no registry. */
export async function loadImage(spec: HostSpec, image: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const save = spawn("docker", ["save", image], { stdio: ["ignore", "pipe", "inherit"] });
    const load = spawn("ip", sshArgs(spec, "docker load -q"), {
      stdio: ["pipe", "ignore", "inherit"],
    });
    save.stdout.pipe(load.stdin);
    // A host that cannot be reached ends ssh early: its closed stdin fails the load, not the process.
    load.stdin.on("error", (error) => reject(new Error(`docker load of ${image} on the host: ${error.message}`)));
    load.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`docker load of ${image} on the host exited ${code}`)),
    );
    save.on("exit", (code) => code !== 0 && reject(new Error(`docker save ${image} exited ${code}`)));
  });
}
