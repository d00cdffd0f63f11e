/**
 * The packaged FreeSWITCH image's build, as the host runs it (sip/deploy.ts
 * freeswitchImageBuildCommand, the token on stdin), against a stand-in for SignalWire's repository:
 * an apt repository of dummy packages made here with dpkg-deb, served on 127.0.0.1 by this test,
 * which asks for the token as apt's HTTP password. The Dockerfile is the rendered one with two
 * things changed (renderFreeswitchDockerfile's test options): FROM the bookworm image the container
 * suite makes with debootstrap (.ci/bookworm-image.sh; no registry here), and the repository's URL,
 * marked [trusted=yes] since the stand-in does not sign. The build gets the host network (a `docker`
 * wrapper adds --network host) so it reaches the stand-in on loopback.
 *
 * Shows: a repository without FreeSWITCH 1.11.2 stops the build with one line naming 1.11.2 and the
 * versions it offers; a repository with 1.11.2 and a newer release installs every package at
 * exactly 1.11.2, with SignalWire's libsofia-sip; and the token is in neither build log nor image
 * history, and apt's credentials file is gone from the image.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeswitchImageBuildCommand } from "../../sip/deploy";
import {
  FREESWITCH_VERSION,
  freeswitchImageName,
  freeswitchPackages,
  renderFreeswitchDockerfile,
  SOFIA_SIP_MIN_VERSION,
} from "../../sip/freeswitchImage";

const BOOKWORM_IMAGE = process.env.BOOKWORM_IMAGE ?? "fshetzner/bookworm:curl";
const TOKEN = `sw-test-token-${randomBytes(12).toString("hex")}`;
/** SignalWire's version shape (util.sh): the release, then ~release~<build>~<commit>~bookworm-1~bookworm+1. */
const debianVersion = (release: string) => `${release}~release~24~0a1b2c3d~bookworm-1~bookworm+1`;

function loudFailure(...lines: string[]): Error {
  const bar = "#".repeat(78);
  return new Error(`\n${bar}\n##  CONTAINER TEST CANNOT RUN\n${lines.map((l) => `##  ${l}`).join("\n")}\n${bar}`);
}

/** Runs a command without blocking this process (the stand-in repository answers from it meanwhile). */
function run(
  cmd: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

interface DummyPackage {
  readonly name: string;
  readonly version: string;
  readonly depends?: string;
  /** Executables in /usr/bin: name → shell body. */
  readonly bin?: Readonly<Record<string, string>>;
}

/**
 * An apt repository with `packages` in bookworm/main: the .debs (dpkg-deb), Packages and a Release
 * with their hashes, and a keyring file where SignalWire has one (the Dockerfile downloads it).
 */
function buildRepository(dir: string, packages: readonly DummyPackage[]): void {
  // The images are this machine's architecture; apt in them reads binary-<that>/Packages.
  const arch = spawnSync("dpkg", ["--print-architecture"], { encoding: "utf8" }).stdout.trim();
  const binary = join(dir, "dists/bookworm/main", `binary-${arch}`);
  mkdirSync(binary, { recursive: true });
  mkdirSync(join(dir, "pool"), { recursive: true });
  const stanzas: string[] = [];
  for (const p of packages) {
    const root = mkdtempSync(join(tmpdir(), "dummy-deb-"));
    mkdirSync(join(root, "DEBIAN"));
    const control = [
      `Package: ${p.name}`,
      `Version: ${p.version}`,
      "Architecture: all",
      "Maintainer: telephony tests <ops@example.org>",
      ...(p.depends ? [`Depends: ${p.depends}`] : []),
      `Description: stand-in for ${p.name} (test)`,
    ].join("\n");
    writeFileSync(join(root, "DEBIAN/control"), `${control}\n`);
    for (const [name, body] of Object.entries(p.bin ?? {})) {
      mkdirSync(join(root, "usr/bin"), { recursive: true });
      writeFileSync(join(root, "usr/bin", name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(root, "usr/bin", name), 0o755);
    }
    const file = `pool/${p.name}_${p.version.replace(/[~+]/g, "_")}_all.deb`;
    const built = spawnSync("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root, join(dir, file)], {
      encoding: "utf8",
    });
    rmSync(root, { recursive: true, force: true });
    if (built.status !== 0) throw new Error(`dpkg-deb --build ${p.name} ${p.version}: ${built.stderr}`);
    const deb = readFileSync(join(dir, file));
    stanzas.push(
      `${control}\nFilename: ${file}\nSize: ${deb.length}\nSHA256: ${createHash("sha256").update(deb).digest("hex")}\n`,
    );
  }
  const index = stanzas.join("\n");
  writeFileSync(join(binary, "Packages"), index);
  const sha = createHash("sha256").update(index).digest("hex");
  writeFileSync(
    join(dir, "dists/bookworm/Release"),
    [
      "Origin: stand-in",
      "Suite: bookworm",
      "Codename: bookworm",
      `Architectures: ${arch} all`,
      "Components: main",
      "SHA256:",
      ` ${sha} ${Buffer.byteLength(index)} main/binary-${arch}/Packages`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "signalwire-freeswitch-repo.gpg"), "stand-in keyring: the stand-in is [trusted=yes]\n");
}

/** FreeSWITCH `release`: the core with `freeswitch -version` and `fs_cli`, and every module package, all at its Debian version. */
function freeswitchRelease(release: string): DummyPackage[] {
  const version = debianVersion(release);
  return freeswitchPackages().map((name) =>
    name === "freeswitch"
      ? {
          name,
          version,
          depends: `libsofia-sip-ua0 (>= ${SOFIA_SIP_MIN_VERSION})`,
          bin: {
            freeswitch: `echo "FreeSWITCH version: ${release}-release+git~20260101T000000Z~0a1b2c3d~64bit (git 0a1b2c3d 2026-01-01 00:00:00Z 64bit)"`,
            fs_cli: "exit 0",
          },
        }
      : { name, version, depends: `freeswitch (= ${version})` },
  );
}

/**
 * The stand-in on 127.0.0.1: serves `dir`, and apt's paths (dists/, pool/) only with the token as
 * SignalWire's HTTP password. The keyring is served without it: curl's netrc matches a host without
 * its port, and the stand-in has one.
 */
async function serveRepository(dir: string): Promise<{ server: Server; url: string; authorised: () => number }> {
  let authorised = 0;
  const expected = `Basic ${Buffer.from(`signalwire:${TOKEN}`).toString("base64")}`;
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(
      /^(\.\.[/\\])+/,
      "",
    );
    if (/^\/(dists|pool)\//.test(path)) {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="stand-in"' }).end();
        return;
      }
      authorised++;
    }
    try {
      const file = join(dir, path);
      if (!statSync(file).isFile()) throw new Error("not a file");
      const body = readFileSync(file);
      res.writeHead(200, { "Content-Length": body.length }).end(req.method === "HEAD" ? undefined : body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/`, authorised: () => authorised };
}

describe("the packaged FreeSWITCH image's build against a stand-in repository", () => {
  let dir: string;
  const servers: Server[] = [];
  const images: string[] = [];

  beforeAll(async () => {
    if ((await run("docker", ["info", "--format", "{{.ServerVersion}}"])).code !== 0)
      throw loudFailure("dockerd is not reachable.", "Start it with: sudo bash .ci/docker-setup.sh");
    if ((await run("docker", ["image", "inspect", BOOKWORM_IMAGE])).code !== 0)
      throw loudFailure(
        `image ${BOOKWORM_IMAGE} does not exist (no registry is reachable to pull one).`,
        "Build it from Debian packages with: sudo bash .ci/bookworm-image.sh",
      );
    dir = mkdtempSync(join(tmpdir(), "freeswitch-image-build-"));
    // The build's `docker`: the host's, with the host network for `docker build`. Debian's client
    // first, as on the server (.ci/lib.sh): a newer client on PATH wants the buildx plugin for
    // DOCKER_BUILDKIT=1, which Debian 12's 20.10 client builds with on its own.
    mkdirSync(join(dir, "bin"));
    const realDocker = (
      await run("sh", ["-c", "if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker; fi"])
    ).stdout.trim();
    writeFileSync(
      join(dir, "bin/docker"),
      `#!/bin/sh\nif [ "$1" = build ]; then shift; exec ${realDocker} build --network host "$@"; fi\nexec ${realDocker} "$@"\n`,
    );
    chmodSync(join(dir, "bin/docker"), 0o755);
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    for (const image of images) await run("docker", ["image", "rm", "-f", image]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The host's build step, with the rendered Dockerfile FROM the bookworm image and the stand-in's URL. */
  async function build(repository: string, name: string) {
    const dockerfile = renderFreeswitchDockerfile({
      baseImage: BOOKWORM_IMAGE,
      repository: { url: repository, unsigned: true },
    });
    // A tag of its own per build: the step skips a build whose tag is already there.
    const image = `${freeswitchImageName(dockerfile)}-${name}-${randomBytes(3).toString("hex")}`;
    images.push(image);
    const log = join(dir, `${name}.log`);
    const result = await run("bash", ["-c", freeswitchImageBuildCommand(image, dockerfile, log)], {
      input: TOKEN,
      env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}` },
    });
    return { ...result, image, log: readFileSync(log, "utf8") };
  }

  it("fails in one line naming FreeSWITCH 1.11.2 and what the repository offers, when it has no 1.11.2; the token in no log", async () => {
    const repo = join(dir, "repo-without");
    buildRepository(repo, [
      { name: "freeswitch", version: debianVersion("1.10.12") },
      { name: "freeswitch", version: debianVersion("1.11.20") },
    ]);
    const stand = await serveRepository(repo);
    servers.push(stand.server);
    const r = await build(stand.url, "without");
    expect(r.code, r.log).toBe(1);
    const line = `FreeSWITCH ${FREESWITCH_VERSION} is not in the repository ${stand.url} (bookworm main); it offers freeswitch ${debianVersion("1.11.20")}, ${debianVersion("1.10.12")}`;
    // What the RUN printed (BuildKit's plain progress puts a step and a time in front): that line,
    // once; the step's failure shows it in the build step's last lines.
    const printed = r.log
      .split("\n")
      .filter((l) => /^#\d+ \d+\.\d+ /.test(l))
      .map((l) => l.replace(/^#\d+ \d+\.\d+ /, ""));
    expect(printed.filter((l) => l.includes(FREESWITCH_VERSION))).toEqual([line]);
    expect(r.stderr).toContain(line);
    expect(r.stderr).toContain("FreeSWITCH image build failed");
    // apt read the repository with the token, and nothing printed it.
    expect(stand.authorised()).toBeGreaterThan(0);
    for (const text of [r.log, r.stdout, r.stderr]) expect(text).not.toContain(TOKEN);
    expect((await run("docker", ["image", "inspect", r.image])).code).not.toBe(0);
  });

  it("installs every package at exactly 1.11.2 (not the newer release beside it) with SignalWire's libsofia-sip; the token in no layer, history or log", async () => {
    const repo = join(dir, "repo-with");
    buildRepository(repo, [
      ...freeswitchRelease("1.11.2"),
      ...freeswitchRelease("1.11.3"),
      { name: "libsofia-sip-ua0", version: "1.13.18-1~bookworm" },
    ]);
    const stand = await serveRepository(repo);
    servers.push(stand.server);
    const r = await build(stand.url, "with");
    expect(r.code, r.log + r.stderr).toBe(0);
    expect(r.stdout).toContain(`built ${r.image}`);
    expect(r.log).toContain(`FreeSWITCH ${FREESWITCH_VERSION} is ${debianVersion("1.11.2")} here`);
    const installed = (
      await run("docker", [
        "run",
        "--rm",
        "--entrypoint",
        "dpkg-query",
        r.image,
        "-W",
        "-f",
        "${Package} ${Version}\\n",
        ...freeswitchPackages(),
        "libsofia-sip-ua0",
      ])
    ).stdout;
    expect(installed.trim().split("\n").sort()).toEqual(
      [
        ...freeswitchPackages().map((p) => `${p} ${debianVersion("1.11.2")}`),
        "libsofia-sip-ua0 1.13.18-1~bookworm",
      ].sort(),
    );
    // apt's credentials file went with the RUN that wrote it; the keyring it fetched stays.
    const files = await run("docker", [
      "run",
      "--rm",
      "--entrypoint",
      "sh",
      r.image,
      "-c",
      "ls -A /etc/apt/auth.conf.d; grep -rl . /etc/apt 2>/dev/null | xargs cat",
    ]);
    expect(files.code).toBe(0);
    expect(files.stdout).not.toContain("signalwire.conf");
    expect(files.stdout).not.toContain(TOKEN);
    const history = await run("docker", ["history", "--no-trunc", r.image]);
    expect(history.code).toBe(0);
    // The RUN that read the secret is in the history, as its command text only.
    expect(history.stdout).toContain("RUN /bin/sh -c test -s /run/secrets/signalwire_token");
    for (const text of [history.stdout, r.log, r.stdout, r.stderr]) expect(text).not.toContain(TOKEN);
    // No layer holds it either: every layer as docker save writes it, searched as bytes (the search
    // does find what the layers do hold: the stand-in freeswitch's version line).
    const layers = join(dir, "layers.bin");
    expect((await run("sh", ["-c", `docker save ${r.image} | tar -xO --wildcards '*.tar' > ${layers}`])).code).toBe(0);
    const holds = (needle: string) => readFileSync(layers).includes(Buffer.from(needle));
    expect(holds(`FreeSWITCH version: ${FREESWITCH_VERSION}-release`)).toBe(true);
    expect(holds(TOKEN)).toBe(false);
  });
});
