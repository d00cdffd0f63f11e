/**
 * The config API as it ships: the image built from files/api/Dockerfile on a base image made
 * from Debian packages (.ci/docker-setup.sh), run with the host network like on the server,
 * its settings and secrets mounted as the stack mounts them. Needs a running dockerd; without
 * one this test fails and says why — it never passes silently.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_PATHS } from "../../sip/hostLayout";
import {
  API_SECRET_FILES,
  type ApiSecrets,
  type ApiSettings,
  XML_CURL_PATH,
  XML_CURL_USER,
} from "../../sip/apiContract";
import { createSealer } from "../../api/sealer";
import { renderGatewaysDirectory } from "../../sip/directory";
import { parseFilesPayload } from "../../sip/deploy";
import { DEFAULT_DIRECTORY_CACHE_SECONDS } from "../../sip/schema";
import { reveal, TYPES } from "../support/pulumiMocks";
import { buildStack, prodConfig } from "../support/mockedStack";
import { startFakeFreeswitch, type FakeFreeswitch } from "../support/fakeFreeswitch";
import { einsUndEins, plusnet } from "../support/apiFixtures";
import { basic, DOMAIN, gatewaysRequest, newSecrets } from "../support/loopbackApi";
import { waitFor } from "../support/waitFor";
import { PROJECT_DIR } from "../support/environment";

const run = promisify(execFile);
const BASE_IMAGE = process.env.BASE_IMAGE ?? "fshetzner/base:node24";
const IMAGE = "fshetzner/config-api:test";
/** The image's USER (files/api/Dockerfile ARG API_UID); the host gives it the secrets and data. */
const API_UID = 10001;

/**
 * The README's Fernet rotation step, `pulumi config set --path 'telephony:rotation.apiStoreEncryption' <n>`,
 * as written there; the test applies it with the value the README shows, then the next one.
 */
const README_ROTATION = /`pulumi config set --path '(telephony:rotation)\.(apiStoreEncryption)' (\d+)`/.exec(
  readFileSync(join(PROJECT_DIR, "docs", "operations.md"), "utf8"),
);

/**
 * `pulumi up` without an engine: the stack on Pulumi's mock runtime, and the fernet_key file as
 * its `files-api-restart` command would push it (from that command's stdin).
 */
async function pushedFernetKeyFile(generation: number): Promise<string> {
  const { run } = await buildStack(
    "prod",
    prodConfig((c) => (generation > 0 ? (c[README_ROTATION![1]] = { [README_ROTATION![2]]: generation }) : undefined)),
  );
  const push = run.ofType(TYPES.command).find((r) => r.name === "files-api-restart")!;
  const file = parseFilesPayload(reveal(push.inputs.stdin)).find(
    (f) => f.path === `${HOST_PATHS.apiSecrets}/fernet_key`,
  )!;
  return file.content;
}

function loudFailure(...lines: string[]): Error {
  const bar = "#".repeat(78);
  return new Error(`\n${bar}\n##  CONTAINER TEST CANNOT RUN\n${lines.map((l) => `##  ${l}`).join("\n")}\n${bar}`);
}

const docker = async (...args: string[]) => (await run("docker", args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("config API container (files/api/Dockerfile)", () => {
  let dir: string;
  let container: string | undefined;
  let freeswitch: FakeFreeswitch;
  let secrets: ApiSecrets;
  let url: string;

  beforeAll(async () => {
    try {
      await docker("info", "--format", "{{.ServerVersion}}");
    } catch (error) {
      throw loudFailure(
        "dockerd is not reachable, so the API image cannot be built or run.",
        `docker info said: ${
          String((error as { stderr?: string }).stderr ?? error)
            .trim()
            .split("\n")[0]
        }`,
        "Start it (and build the base image) with: sudo bash .ci/docker-setup.sh",
      );
    }
    try {
      await docker("image", "inspect", BASE_IMAGE);
    } catch {
      throw loudFailure(
        `base image ${BASE_IMAGE} does not exist (no registry is reachable to pull one).`,
        "Build it from Debian packages with: sudo bash .ci/docker-setup.sh",
      );
    }
    if (!existsSync(join(PROJECT_DIR, "dist/api/server.js")))
      throw loudFailure("dist/api/server.js is missing: run `npm run build:api` (npm run test:container does).");

    await docker(
      "build",
      "--network",
      "host",
      "-f",
      join(PROJECT_DIR, "files/api/Dockerfile"),
      "--build-arg",
      `BASE_IMAGE=${BASE_IMAGE}`,
      "-t",
      IMAGE,
      join(PROJECT_DIR, "dist/api"),
    );

    // The key the stack generates before any rotation (generation 0), as pushed to the host.
    secrets = { ...newSecrets(), fernetKey: await pushedFernetKeyFile(0) };
    freeswitch = await startFakeFreeswitch(secrets.eslPassword);
    const port = await freeLoopbackPort();
    url = `http://127.0.0.1:${port}`;
    dir = await mkdtemp(join(tmpdir(), "config-api-container-"));
    const settings: ApiSettings = {
      listen: { host: "127.0.0.1", port },
      metricsListen: { host: "127.0.0.1", port: 0 },
      domain: DOMAIN,
      directoryCacheSeconds: DEFAULT_DIRECTORY_CACHE_SECONDS,
      profiles: ["external-ipv4", "internal"],
      esl: { host: "127.0.0.1", port: freeswitch.port },
      xmlCurlUser: XML_CURL_USER,
      xmlCurlPath: XML_CURL_PATH,
      storePath: "/data/store.json",
      secretsDir: "/run/secrets",
    };
    await mkdir(join(dir, "secrets"));
    await mkdir(join(dir, "data"));
    await writeFile(join(dir, "config.json"), JSON.stringify(settings, null, 2));
    for (const [key, file] of Object.entries(API_SECRET_FILES))
      await writeFile(join(dir, "secrets", file), secrets[key as keyof ApiSecrets], { mode: 0o600 });
    // As on the host: the secrets stay 0600 and belong to the container's user.
    if (process.getuid?.() === 0) {
      for (const path of [
        join(dir, "secrets"),
        join(dir, "data"),
        ...(await readdir(join(dir, "secrets"))).map((f) => join(dir, "secrets", f)),
      ])
        await chown(path, API_UID, API_UID);
    }

    container = await docker(
      "run",
      "-d",
      "--name",
      `config-api-test-${randomBytes(4).toString("hex")}`,
      "--network",
      "host",
      // The image checks every 10 s; a 1 s interval just makes this test quicker.
      "--health-interval",
      "1s",
      ...(process.getuid?.() === 0 ? [] : ["--user", `${process.getuid?.()}:${process.getgid?.()}`]),
      "-v",
      `${join(dir, "config.json")}:/etc/telephony-api/config.json:ro`,
      "-v",
      `${join(dir, "secrets")}:/run/secrets:ro`,
      "-v",
      `${join(dir, "data")}:/data`,
      IMAGE,
    );
    await waitFor("the container's health check to report healthy", 60_000, async () => {
      const status = await docker("inspect", "-f", "{{.State.Health.Status}}", container!);
      if (status === "unhealthy") throw new Error("unhealthy");
      return status === "healthy" ? status : undefined;
    });
  });

  afterAll(async () => {
    if (container) {
      const logs = await run("docker", ["logs", container]).catch(() => undefined);
      if (logs && process.env.SHOW_CONTAINER_LOGS) console.log(logs.stdout, logs.stderr);
      await docker("rm", "-f", container).catch(() => undefined);
    }
    await freeswitch?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("connects to FreeSWITCH's event socket on loopback and rescans every profile", async () => {
    expect(await freeswitch.waitForCommands(3, 20_000)).toEqual([
      "xml_flush_cache",
      "sofia profile external-ipv4 rescan",
      "sofia profile internal rescan",
    ]);
  });

  it("takes a trunk set and answers mod_xml_curl's gateway request for a profile", async () => {
    const put = await fetch(`${url}/api/v1/sip/trunks`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${secrets.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify([plusnet, einsUndEins]),
    });
    expect(put.status).toBe(200);

    const answer = await fetch(`${url}${XML_CURL_PATH}`, {
      method: "POST",
      headers: {
        Authorization: basic(XML_CURL_USER, secrets.xmlCurlPassword),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(gatewaysRequest("internal")).toString(),
    });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe(renderGatewaysDirectory(DOMAIN, "internal", [einsUndEins]));
  });

  it("keeps every password through the README's Fernet key rotation, twice, and re-seals the store with the new key", async () => {
    expect(README_ROTATION, "README: the Fernet rotation command").not.toBeNull();
    const gateways = async () => {
      const answer = await fetch(`${url}${XML_CURL_PATH}`, {
        method: "POST",
        headers: {
          Authorization: basic(XML_CURL_USER, secrets.xmlCurlPassword),
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams(gatewaysRequest("internal")).toString(),
      });
      return answer.status === 200 ? answer.text() : `HTTP ${answer.status}`;
    };
    const before = await gateways();
    expect(before).toContain(einsUndEins.password);
    const first = Number(README_ROTATION![3]);
    for (const generation of [first, first + 1]) {
      // `pulumi up`: the files-api-restart group writes fernet_key, then restarts the API container.
      const keyFile = await pushedFernetKeyFile(generation);
      const [current, previous] = keyFile.split("\n");
      expect(previous, "the previous key stays beside the new one").toBeDefined();
      await writeFile(join(dir, "secrets", "fernet_key"), keyFile, { mode: 0o600 });
      await docker("restart", container!);
      await waitFor("the restarted API to be ready", 60_000, async () =>
        (await fetch(`${url}/readyz`)).ok ? true : undefined,
      );
      expect(await gateways()).toBe(before);
      const stored = JSON.parse(await readFile(join(dir, "data", "store.json"), "utf8"));
      const sealed = stored.trunks
        .map((t: { passwordSealed?: string }) => t.passwordSealed)
        .filter(Boolean) as string[];
      expect(sealed.map((t) => createSealer(current).open(t))).toEqual([einsUndEins.password]);
    }
    const { stdout } = await run("docker", ["logs", container!]);
    expect(stdout.split("store re-sealed with the current fernet key").length - 1).toBe(2);
  });

  it("logs JSON lines only, none holding a secret", async () => {
    const { stdout, stderr } = await run("docker", ["logs", container!]);
    const lines = (stdout + stderr).split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    for (const secret of [
      secrets.adminToken,
      secrets.xmlCurlPassword,
      secrets.eslPassword,
      secrets.fernetKey,
      einsUndEins.password!,
    ]) {
      expect(stdout + stderr).not.toContain(secret);
    }
  });
});
