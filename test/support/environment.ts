/**
 * The real things the real suites drive, taken from the environment: a Pulumi CLI on PATH at the
 * lockfile's version, a FreeSWITCH image named by FREESWITCH_IMAGE, root on Linux. Nothing here
 * builds or downloads them. Each lookup answers with the thing, or with one line naming what is
 * missing and how to provide it (the suite runner prints that line and skips the suite).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The project's directory (the checkout): test code and benchmarks take it from here only. */
export const PROJECT_DIR = join(__dirname, "..", "..");

export type Lookup<T> = { readonly found: T } | { readonly missing: string };

export const isFound = <T>(lookup: Lookup<T>): lookup is { readonly found: T } => "found" in lookup;

/** The @pulumi/pulumi version package-lock.json pins: the CLI must be the same release. */
export function pinnedPulumiVersion(projectDir: string = PROJECT_DIR): string {
  const lock = JSON.parse(readFileSync(join(projectDir, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages["node_modules/@pulumi/pulumi"]?.version;
  if (!version) throw new Error("package-lock.json pins no @pulumi/pulumi");
  return version;
}

export const PULUMI_INSTALL_HINT = (version: string) =>
  `install it with Pulumi's installer (curl -fsSL https://get.pulumi.com | sh -s -- --version ${version}) and put ~/.pulumi/bin on PATH`;

/** The directory of the `pulumi` on PATH, when it is the pinned release. */
export function pulumiEngine(env: NodeJS.ProcessEnv = process.env, projectDir: string = PROJECT_DIR): Lookup<string> {
  const version = pinnedPulumiVersion(projectDir);
  const which = spawnSync("sh", ["-c", "command -v pulumi"], { env, encoding: "utf8" });
  const path = which.status === 0 ? which.stdout.trim() : "";
  if (!path) return { missing: `no Pulumi CLI on PATH: ${PULUMI_INSTALL_HINT(version)}` };
  const run = spawnSync(path, ["version"], { env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "1" }, encoding: "utf8" });
  const have = run.status === 0 ? run.stdout.trim() : "";
  if (have !== `v${version}`)
    return {
      missing: `the Pulumi CLI on PATH (${path}) is ${have || "not answering"}, not v${version} (the lockfile's @pulumi/pulumi): ${PULUMI_INSTALL_HINT(version)}`,
    };
  return { found: dirname(path) };
}

export const FREESWITCH_IMAGE_HINT =
  "name a FreeSWITCH 1.10 or 1.11 image in the local Docker store (docs/freeswitch-image.md), e.g. FREESWITCH_IMAGE=<image> npm run test:freeswitch";

/** FREESWITCH_IMAGE, when set. Whether the image exists is the suite's first check (it needs Docker up). */
export function freeswitchImage(env: NodeJS.ProcessEnv = process.env): Lookup<string> {
  const image = env.FREESWITCH_IMAGE?.trim();
  return image ? { found: image } : { missing: `FREESWITCH_IMAGE is not set: ${FREESWITCH_IMAGE_HINT}` };
}

/** Network namespaces, Docker and Debian packages need root on Linux. */
export function rootOnLinux(
  platform: NodeJS.Platform = process.platform,
  uid: number | undefined = process.getuid?.(),
): Lookup<true> {
  if (platform !== "linux") return { missing: `needs Linux (network namespaces), not ${platform}` };
  if (uid !== 0)
    return {
      missing: "needs root (network namespaces, Docker, Debian packages): run it as root, e.g. sudo -E npm test",
    };
  return { found: true };
}

/**
 * Debian packages a suite installs with its .ci setup script: found when each is installed or
 * apt knows a candidate for it (Debian 12 ships pebble and lego; other systems may not).
 */
export function debianPackages(packages: readonly string[]): Lookup<readonly string[]> {
  const absent = packages.filter((p) => {
    const installed = spawnSync("dpkg-query", ["-W", "--showformat=${Status}", p], { encoding: "utf8" });
    if (installed.status === 0 && installed.stdout.includes("ok installed")) return false;
    const policy = spawnSync("apt-cache", ["policy", p], { encoding: "utf8" });
    const candidate = /Candidate: (\S+)/.exec(policy.stdout ?? "")?.[1];
    return !candidate || candidate === "(none)";
  });
  if (absent.length === 0) return { found: packages };
  return {
    missing: `Debian package(s) ${absent.join(", ")} neither installed nor installable here (apt-get update first, or a Debian 12+ machine with apt-get install ${absent.join(" ")})`,
  };
}

/** Throws the lookup's line when it is missing: for a suite run directly with vitest, past the runner. */
export function required<T>(lookup: Lookup<T>): T {
  if (isFound(lookup)) return lookup.found;
  throw new Error(lookup.missing);
}

/**
 * The Node.js base image the config API's image is built FROM, by name from the script that
 * makes it (.ci/docker-setup.sh: it also brings the Docker engine up). Cheap when both exist.
 */
export function apiBaseImage(projectDir: string = PROJECT_DIR): string {
  const run = spawnSync("bash", [join(projectDir, ".ci", "docker-setup.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const image = run.stdout?.trim().split("\n").pop();
  if (run.status !== 0 || !image) throw new Error(".ci/docker-setup.sh failed: it says why above");
  return image;
}
