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
import { renderCloudInit } from "../sip/render/cloudInit";
import { summarize } from "../sip/summary";
import { configSourceFromFile } from "./stackFile";

export function renderStackToDir(projectDir: string, stack: string, outRoot: string): { outDir: string; summary: string } {
  const { model } = loadStack(configSourceFromFile(projectDir, stack));
  // A machine you bring has its addresses in config; a Hetzner stack's come from its primary IPs.
  const existing = model.host.existing;
  const addresses = existing ? { ipv4: existing.ipv4, ipv6: existing.ipv6 } : model.host.previewAddresses;
  const files = renderBundle(model, addresses, MASKED_SECRETS);
  const outDir = join(outRoot, stack);
  rmSync(outDir, { recursive: true, force: true });
  for (const f of files) {
    const target = join(outDir, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content, { mode: f.secret ? 0o600 : 0o644 });
  }
  const userData = join(outDir, "cloud-init", "user-data.yaml");
  mkdirSync(dirname(userData), { recursive: true });
  writeFileSync(userData, renderCloudInit());
  const summary = summarize(model, addresses, files, {
    addressSource: existing
      ? "the machine's addresses from host.existing"
      : "preview addresses from host.previewAddresses (no deployed stack to read the primary IPs from)",
    outDir,
  });
  return { outDir, summary };
}

function main(): void {
  const stack = process.argv[2] ?? "prod";
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
