/**
 * `npm start [-- <stack>]`: the main job, offline. Reads Pulumi.<stack>.yaml (default: prod),
 * validates it, renders every file the stack would push into out/<stack>/<host path>, secrets
 * masked, and prints a summary a reviewer can read. `pulumi up` runs the same code for real.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { MASKED_SECRETS, renderBundle } from "../sip/bundle";
import { loadStack } from "../sip/config";
import { StackConfigError } from "../sip/problems";
import { renderCloudInit } from "../sip/bootstrap";
import { STANDBY_HOSTS_DIR, summarize } from "../sip/summary";
import type { StackModel } from "../sip/model";
import type { RenderedFile } from "../sip/renderedFile";
import { configuredFloatingAddresses, configuredHostFacts, STANDBY_HOST_KEYS } from "../sip/standby";
import { servedDocuments } from "./servedDocuments";
import { configSourceFromFile } from "./stackFile";

export function renderStackToDir(
  projectDir: string,
  stack: string,
  outRoot: string,
): { outDir: string; summary: string } {
  const outDir = join(outRoot, stack);
  // Gone before anything can fail: a broken config must not leave the last good bundle behind for
  // someone to review as if it were this config's.
  rmSync(outDir, { recursive: true, force: true });
  const { model } = loadStack(configSourceFromFile(projectDir, stack));
  if (model.standby) return renderPairToDir(model, outDir);
  // A machine you bring has its addresses in config; a Hetzner stack's come from its primary IPs.
  const existing = model.host.existing;
  const addresses = existing ? { ipv4: existing.ipv4, ipv6: existing.ipv6 } : model.host.previewAddresses;
  // Everything is rendered before the first file is written: a renderer that refuses a value
  // leaves no half-written bundle either.
  const files = renderBundle(model, addresses, MASKED_SECRETS);
  const served = servedDocuments(model, addresses);
  writeAll(outDir, [...fileWrites(files), ...stackWideWrites(served)]);
  const summary = summarize(model, addresses, files, {
    addressSource: existing
      ? "the machine's addresses from host.existing"
      : "preview addresses from host.previewAddresses (no deployed stack to read the primary IPs from)",
    outDir,
    served,
  });
  return { outDir, summary };
}

interface Write {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/** Rendered files at their host paths (below `under`), secret ones 0600. */
const fileWrites = (files: readonly RenderedFile[], under = ""): Write[] =>
  files.map((f) => ({ path: join(under, f.path), content: f.content, mode: f.secret ? 0o600 : 0o644 }));

/** What is written once per stack, beside the host files: the cloud-init user data and the documents the API serves. */
const stackWideWrites = (served: ReturnType<typeof servedDocuments>): Write[] => [
  { path: "cloud-init/user-data.yaml", content: renderCloudInit(), mode: 0o644 },
  ...served.map((d) => ({ path: d.path, content: d.content, mode: 0o644 })),
];

/** Writes every file, or (on a failure part-way) none: out/<stack>/ is removed again. */
function writeAll(outDir: string, writes: readonly Write[]): void {
  try {
    for (const w of writes) {
      const target = join(outDir, w.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, w.content, { mode: w.mode });
    }
  } catch (err) {
    rmSync(outDir, { recursive: true, force: true });
    throw err;
  }
}

/** What stands in offline for a Hetzner ID that exists only once the stack created the resource. */
export const ID_AT_DEPLOY = "(set at deploy)";

/**
 * The standby pair: one bundle per host, both bound to the floating addresses. A file the two
 * hosts share goes to out/<stack>/<path>, one that differs to out/<stack>/hosts/<host>/<path>
 * (STANDBY_HOSTS_DIR), so a reviewer sees at once which files make the hosts different.
 */
function renderPairToDir(model: StackModel, outDir: string): { outDir: string; summary: string } {
  const floating = configuredFloatingAddresses(model);
  const addresses = floating ?? model.host.previewAddresses;
  const bundles = STANDBY_HOST_KEYS.map((key) => ({
    key,
    files: renderBundle(model, addresses, MASKED_SECRETS, configuredHostFacts(model, key, ID_AT_DEPLOY)),
  }));
  const [first, ...others] = bundles;
  const sameEverywhere = (f: RenderedFile) =>
    others.every((b) => b.files.some((g) => g.path === f.path && g.content === f.content && g.mode === f.mode));
  const shared = first.files.filter(sameEverywhere);
  const sharedPaths = new Set(shared.map((f) => f.path));
  const served = servedDocuments(model, addresses);
  writeAll(outDir, [
    ...fileWrites(shared),
    ...bundles.flatMap((b) =>
      fileWrites(
        b.files.filter((f) => !sharedPaths.has(f.path)),
        join(STANDBY_HOSTS_DIR, b.key),
      ),
    ),
    ...stackWideWrites(served),
  ]);
  const summary = summarize(model, addresses, first.files, {
    addressSource: floating
      ? "the floating IPs from standby.floatingIps"
      : "preview addresses from host.previewAddresses, standing in for the floating IPs the stack creates",
    outDir,
    served,
    standby: { perHostPaths: first.files.filter((f) => !sharedPaths.has(f.path)).map((f) => f.path) },
  });
  return { outDir, summary };
}

export const USAGE = `usage: npm start [-- <stack>]

Validates Pulumi.<stack>.yaml (default: prod) offline and renders every file the stack pushes to
its host into out/<stack>/<path on the host>, secrets masked, then prints a summary: addresses,
profiles, trunks, numbers, firewall, the gateway documents the config API serves, and what a
change to each file disrupts. With standby, a file that differs between the two hosts goes to
out/<stack>/hosts/<primary|standby>/<path on the host> instead. On a configuration problem it
prints every problem (config key and fix), removes out/<stack>/ and exits 1.

  npm start                 render the prod stack
  npm start -- staging      render Pulumi.staging.yaml
  npm start -- --help       this text
`;

function main(): void {
  const args = process.argv.slice(2);
  if (args.some((a) => a === "--help" || a === "-h")) {
    process.stdout.write(USAGE);
    return;
  }
  const unknown = args.filter((a) => a.startsWith("-"));
  if (unknown.length > 0 || args.length > 1) {
    process.stderr.write(
      `${unknown.length ? `unknown option ${unknown.join(", ")}` : "give at most one stack name"}\n\n${USAGE}`,
    );
    process.exit(2);
  }
  const stack = args[0] ?? "prod";
  const projectDir = resolve(__dirname, "..");
  try {
    const { summary } = renderStackToDir(projectDir, stack, join(projectDir, "out"));
    process.stdout.write(summary);
  } catch (err) {
    if (err instanceof StackConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

if (require.main === module) main();
