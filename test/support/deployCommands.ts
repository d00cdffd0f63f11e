/**
 * The deploy step's own commands, run against a test run instead of a host: the text of
 * writeFilesCommand and apiPutCommand (sip/deploy.ts) with the host's paths under the run's root and
 * the host's container names replaced by the run's. So the suite writes the rendered tree, runs its
 * reloads and PUTs the trunk and extension sets exactly as a deploy does. And where a deployed file
 * is on the run (hostPath), FreeSWITCH's log among them.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { API_CONTAINER, FREESWITCH_CONTAINER, HOST_PATHS, HOST_ROOT } from "../../sip/hostLayout";
import { apiPutCommand, fileGroups, filesPayload, writeFilesCommand } from "../../sip/deploy";
import type { RenderedFile } from "../../sip/renderedFile";
import { shAsync } from "./exec";
import { netnsExec, type OnTestNetwork } from "./namespaces";

/** A test run as a host: its root directory (the host's / is <root>/) and its containers' names. */
export interface TestHost {
  readonly root: string;
  readonly containers: { readonly freeswitch: string; readonly api: string };
}

/** The host path of a deployed file under this run's root. */
export function hostPath(stack: Pick<TestHost, "root">, path: string): string {
  if (!path.startsWith(`${HOST_ROOT}/`)) throw new Error(`${path} is not under ${HOST_ROOT}`);
  return join(stack.root, path);
}
/**
 * Deploy commands name the host's paths and containers; the suite runs the same text with this
 * run's root and containers in their place.
 */
function onThisRun(stack: TestHost, text: string): string {
  return text
    .split(`${HOST_ROOT}/`)
    .join(`${stack.root}${HOST_ROOT}/`)
    .split(FREESWITCH_CONTAINER)
    .join(stack.containers.freeswitch)
    .split(API_CONTAINER)
    .join(stack.containers.api);
}

/**
 * Writes the bundle's files the deploy way: each reload-class group through writeFilesCommand
 * (payload on stdin), which also runs the group's reload when its container is running. Only
 * groups whose payload differs from `previous` are written, as `pulumi up` updates only those.
 */
export async function writeDeployedFiles(
  stack: TestHost,
  files: readonly RenderedFile[],
  previous: readonly RenderedFile[] = [],
): Promise<string[]> {
  const [now, before] = [onHost(stack, files), onHost(stack, previous)];
  const payloadsBefore = new Map(fileGroups(before).map((g) => [g.name, filesPayload(before, g.paths)]));
  const written: string[] = [];
  for (const group of fileGroups(now)) {
    const payload = filesPayload(now, group.paths);
    if (payloadsBefore.get(group.name) === payload) continue;
    await shAsync("bash", ["-c", onThisRun(stack, writeFilesCommand(group))], payload);
    written.push(group.name);
  }
  return written;
}

/** The files a run writes: those under HOST_ROOT (no host firewall), moved under its root; contents stay byte for byte as rendered. */
function onHost(stack: TestHost, list: readonly RenderedFile[]): RenderedFile[] {
  return list
    .filter((f) => f.path.startsWith(`${HOST_ROOT}/`) && f.reload.kind !== "host-firewall")
    .map((f) => ({ ...f, path: `${stack.root}${f.path}` }));
}

export interface ScriptRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one group's deploy script (writeFilesCommand: write its files, then its reload, a drained
 * restart for the disruptive classes) on this run, changed or not, as `pulumi up` runs the group
 * when its payload or its script changes. Resolves with the exit code and what it printed.
 */
export function runDeployGroup(stack: TestHost, files: readonly RenderedFile[], name: string): Promise<ScriptRun> {
  const now = onHost(stack, files);
  const group = fileGroups(now).find((g) => g.name === name);
  if (!group) throw new Error(`no file group ${name} in the bundle`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn("bash", ["-c", onThisRun(stack, writeFilesCommand(group))], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(filesPayload(now, group.paths));
  });
}

/** FreeSWITCH's log as deployed (the file fail2ban reads). */
export async function readFreeswitchLog(stack: Pick<TestHost, "root">): Promise<string> {
  const path = hostPath(stack, HOST_PATHS.freeswitchLogFile);
  return existsSync(path) ? readFile(path, "utf8") : "";
}

/** PUTs a JSON set the way the deploy step does (components/configApiSync.ts: apiPutCommand, token from the deployed secret file). */
export async function deployPut(stack: TestHost & OnTestNetwork, path: string, json: unknown): Promise<string> {
  return netnsExec(stack.netns.server, ["bash", "-c", onThisRun(stack, apiPutCommand(path))], JSON.stringify(json));
}
