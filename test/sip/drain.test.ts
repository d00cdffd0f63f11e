/**
 * The drain before disruptive restarts (sip/drain.ts), run as shell against stub commands: a
 * `docker` that answers `fs_cli -x 'show calls count'` from a script of counts and logs every
 * call, and a `date` and `sleep` on a fake clock, so a 300 s bound takes no time. Then: every
 * disruptive restart the stack renders runs that same text first, and a deployed group runs it
 * before its restart.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MASKED_SECRETS, renderBundle } from "../../sip/bundle";
import { fileGroups, filesPayload, freeswitchRunCommand, writeFilesCommand } from "../../sip/deploy";
import { drainCommand, drainNote } from "../../sip/drain";
import { disruption, reloadCommand, type ReloadClass } from "../../sip/reload";
import { ACME_PATHS, FREESWITCH_CONTAINER } from "../../sip/hostLayout";
import type { RenderedFile } from "../../sip/renderedFile";
import { DEFAULT_DRAIN_SECONDS } from "../../sip/schema";
import { buildModel } from "../../sip/stack";
import { PROD_SECRETS, prodModel, prodRawConfig } from "../support/stackConfig";

// The primary addresses of the host this project replaces (the stack renders with them when it has no deployed ones).
const HOST_ADDRESSES = { ipv4: "46.4.96.105", ipv6: "2a01:4f8:140:829d::2" };
const CONTAINER = "fs-under-test";

interface Host {
  readonly dir: string;
  /** Every docker invocation, one line each, with the fake clock's time in front. */
  log(): string[];
}

/**
 * Stub commands in a fresh directory: `docker exec <CONTAINER> fs_cli -x 'show calls count'` pops
 * the next count of `counts` (the last one sticks; "down" means the container does not run),
 * any other docker call is only logged; `date +%s` and `sleep N` read and advance a fake clock.
 */
const stubDirs: string[] = [];
afterAll(() => {
  for (const dir of stubDirs) rmSync(dir, { recursive: true, force: true });
});

function stubHost(counts: readonly (number | "down")[]): Host {
  const dir = mkdtempSync(join(tmpdir(), "drain-"));
  stubDirs.push(dir);
  const bin = join(dir, "bin");
  writeFileSync(join(dir, "counts"), counts.join("\n") + "\n");
  writeFileSync(join(dir, "clock"), "1000\n");
  const script = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\nD=${dir}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  mkdirSync(bin);
  script("date", 'cat "$D/clock"');
  script("sleep", 'echo $(( $(cat "$D/clock") + $1 )) > "$D/clock.new" && mv "$D/clock.new" "$D/clock"');
  script(
    "docker",
    [
      'echo "$(cat "$D/clock") $*" >> "$D/docker.log"',
      'if [ "$1" = inspect ]; then echo true; exit 0; fi',
      '[ "$1" = exec ] || exit 0',
      `if [ "$2" != ${CONTAINER} ]; then echo "Error response from daemon: No such container: $2" >&2; exit 1; fi`,
      'n=$(head -n 1 "$D/counts")',
      'if [ "$(wc -l < "$D/counts")" -gt 1 ]; then tail -n +2 "$D/counts" > "$D/counts.new" && mv "$D/counts.new" "$D/counts"; fi',
      `if [ "$n" = down ]; then echo "Error response from daemon: container ${CONTAINER} is not running" >&2; exit 1; fi`,
      // What fs_cli prints for `show calls count` on FreeSWITCH 1.10.
      'printf "\\n%s total.\\n\\n" "$n"',
    ].join("\n"),
  );
  return {
    dir,
    log: () =>
      existsSync(join(dir, "docker.log")) ? readFileSync(join(dir, "docker.log"), "utf8").trim().split("\n") : [],
  };
}

/** Runs `script` with the stubs first on PATH, as the deploy runs it (bash, strict mode). */
function run(host: Host, script: string, shell = "bash", input = "") {
  const result = spawnSync(
    shell,
    ["-c", `set -eu${shell === "bash" ? " -o pipefail" : ""}\n${script}\necho "done at $(date +%s)"`],
    {
      input,
      encoding: "utf8",
      env: { ...process.env, PATH: `${join(host.dir, "bin")}:${process.env.PATH}` },
      timeout: 20_000,
    },
  );
  const polls = host.log().filter((l) => l.includes("show calls count"));
  const doneAt = Number(/done at (\d+)/.exec(result.stdout)?.[1]);
  return { status: result.status, stderr: result.stderr, polls: polls.length, waited: doneAt - 1000, log: host.log() };
}

const drain = (seconds: number) => drainCommand(CONTAINER, seconds);
/** bash runs the deploy's scripts; dash (Debian's sh) shows the text needs nothing of bash's. */
const SHELLS = ["bash", ...(spawnSync("sh", ["-c", "command -v dash"]).status === 0 ? ["dash"] : [])];

describe.each(SHELLS)("the drain (%s)", (shell) => {
  it("returns at once, silently, when no call is up", () => {
    const r = run(stubHost([0]), drain(300), shell);
    expect(r.status).toBe(0);
    expect(r.polls).toBe(1);
    expect(r.waited).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("waits while calls are up and returns at the first idle moment", () => {
    const r = run(stubHost([3, 2, 2, 1, 0, 4]), drain(300), shell);
    expect(r.status).toBe(0);
    // Polled once a second until the count read 0; the 4 after it is never asked for.
    expect(r.polls).toBe(5);
    expect(r.waited).toBe(4);
    expect(r.stderr).toContain(`drain: 3 call(s) up on ${CONTAINER}: waiting up to 300 s for them to end`);
    expect(r.stderr).toContain(`drain: no call up on ${CONTAINER} after 4 s: restarting now`);
  });

  it("gives up at the bound, says so on stderr, and returns success so the restart happens", () => {
    const r = run(stubHost([2]), drain(20), shell);
    expect(r.status).toBe(0);
    // A look a second, the last one past the bound: whole seconds on the clock, so a count of 20
    // may be only 19 s and a bit; 21 proves 20 have passed.
    expect(r.waited).toBe(21);
    expect(r.polls).toBe(22);
    expect(r.stderr).toContain(
      `drain: 2 call(s) still up on ${CONTAINER} after 20 s (maintenance.drainSeconds): restarting anyway, they drop`,
    );
  });

  it("with a bound of 0 restarts at once, saying which calls drop", () => {
    const r = run(stubHost([5]), drain(0), shell);
    expect(r.waited).toBe(0);
    expect(r.stderr).toContain("5 call(s) still up");
  });

  it("treats FreeSWITCH not running, or no such container, as idle", () => {
    const stopped = run(stubHost(["down"]), drain(300), shell);
    expect([stopped.status, stopped.polls, stopped.waited, stopped.stderr]).toEqual([0, 1, 0, ""]);
    const missing = run(stubHost([7]), drainCommand("not-there", 300), shell);
    expect([missing.status, missing.waited, missing.stderr]).toEqual([0, 0, ""]);
  });

  it("stops waiting when FreeSWITCH goes away during the wait", () => {
    const r = run(stubHost([2, 2, "down"]), drain(300), shell);
    expect([r.status, r.waited]).toEqual([0, 2]);
  });
});

describe("the drain's text", () => {
  it("names its bound in words the preview shows", () => {
    expect(drainCommand(CONTAINER, 300)).toContain(
      "# Drain (telephony:maintenance.drainSeconds): waits up to 300 s for calls to end",
    );
    expect(drainNote(45)).toBe("waits up to 45 s for calls to end");
  });

  it("refuses a bound or a container name that is not plain", () => {
    expect(() => drainCommand(CONTAINER, 1.5)).toThrow(/whole number/);
    expect(() => drainCommand("x; rm -rf /", 300)).toThrow(/not a container name/);
  });
});

describe("every disruptive restart drains first", () => {
  const model = prodModel();
  const files = renderBundle(model, HOST_ADDRESSES, MASKED_SECRETS);
  /** The drain's whole text is in `text` (indented or not), and `restart` comes after it. */
  const expectDrainBefore = (text: string, restart: string) => {
    const lines = drainCommand(FREESWITCH_CONTAINER, DEFAULT_DRAIN_SECONDS).split("\n");
    const flat = text.split("\n").map((l) => l.trim());
    const at = flat.findIndex((_, i) => lines.every((l, j) => flat[i + j] === l.trim()));
    expect(at, text).toBeGreaterThanOrEqual(0);
    expect(flat.slice(at + lines.length).join("\n"), text).toContain(restart);
    expect(flat.slice(0, at).join("\n"), text).not.toContain(restart);
  };

  it("in the reload classes that restart something, and in their disruption", () => {
    const classes = new Map(files.map((f): [string, ReloadClass] => [JSON.stringify(f.reload), f.reload]));
    const disruptive = [...classes.values()].filter((c) => ["profile", "freeswitch-restart", "tls"].includes(c.kind));
    expect(disruptive.map((c) => c.kind).sort()).toEqual(["freeswitch-restart", "profile", "profile", "profile"]);
    for (const c of disruptive) {
      expectDrainBefore(
        reloadCommand(c, { ufwScript: "" }),
        c.kind === "profile" ? `sofia profile ${c.profile} restart` : `docker restart ${FREESWITCH_CONTAINER}`,
      );
      expect(disruption(c)).toMatch(/^waits up to 300 s for calls to end, then /);
    }
    const tls: ReloadClass = { kind: "tls", profiles: ["internal"], drainSeconds: 45, load: "by-reported-version" };
    expect(reloadCommand(tls, { ufwScript: "" }).replace(/^ +/gm, "")).toContain(
      drainCommand(FREESWITCH_CONTAINER, 45).replace(/^ +/gm, ""),
    );
    expect(disruption(tls)).toMatch(/; before it, waits up to 45 s for calls to end, then /);
    for (const c of [...classes.values()].filter((c) => !disruptive.includes(c))) {
      expect(reloadCommand(c, { ufwScript: "/x" }), c.kind).not.toContain("drain");
      expect(disruption(c), c.kind).not.toContain("waits");
    }
  });

  it("in the FreeSWITCH container's start script (an image change), before the running container is removed", () => {
    expectDrainBefore(
      freeswitchRunCommand("example/freeswitch:1", DEFAULT_DRAIN_SECONDS),
      `docker rm -f ${FREESWITCH_CONTAINER}`,
    );
    const start = freeswitchRunCommand("example/freeswitch:1", DEFAULT_DRAIN_SECONDS);
    // The API wait comes before the drain, so the restart follows the idle moment at once.
    expect(start.indexOf("/readyz")).toBeLessThan(start.indexOf("drain_calls telephony-freeswitch"));
  });

  it("in the ACME renewal job, only after the certificate changed", () => {
    const script = files.find((f) => f.path === ACME_PATHS.script)!.content;
    expectDrainBefore(script, "sofia profile internal restart");
    expect(script.indexOf("drain_calls()")).toBeGreaterThan(script.indexOf('if cmp -s "$new"'));
  });

  it("in the deployed groups' scripts, only while FreeSWITCH runs", () => {
    for (const group of fileGroups(files).filter((g) => ["freeswitch-restart", "profile-internal"].includes(g.name))) {
      const script = writeFilesCommand(group);
      expectDrainBefore(
        script,
        group.name === "freeswitch-restart" ? "docker restart" : "sofia profile internal restart",
      );
      expect(script).toMatch(
        /\nif \[ "\$\(docker inspect -f '\{\{\.State\.Running\}\}' telephony-freeswitch 2>\/dev\/null\)" = true \]; then\n {2}# Drain/,
      );
      expect(script.trimEnd().endsWith("\nfi")).toBe(true);
    }
  });

  it("takes maintenance.drainSeconds from the stack", () => {
    const quick = buildModel(
      { ...prodRawConfig(), maintenance: { drainSeconds: 60 } },
      { stack: "prod", secretPaths: PROD_SECRETS },
    );
    const group = fileGroups(renderBundle(quick, HOST_ADDRESSES, MASKED_SECRETS)).find(
      (g) => g.name === "freeswitch-restart",
    )!;
    expect(writeFilesCommand(group)).toContain(`drain_calls ${FREESWITCH_CONTAINER} 60`);
  });

  it("runs in a deployed group's script: files written, then the drain, then the restart", () => {
    const host = stubHost([2, 1, 0]);
    const root = join(host.dir, "root");
    const file: RenderedFile = {
      path: `${root}/switch.conf.xml`,
      content: "<configuration/>\n",
      reload: { kind: "freeswitch-restart", drainSeconds: 300 },
      secret: false,
      mode: "0644",
    };
    const [group] = fileGroups([file]);
    const script = writeFilesCommand(group).split(FREESWITCH_CONTAINER).join(CONTAINER);
    const r = run(host, script, "bash", filesPayload([file], group.paths));
    expect(r.stderr).toContain("waiting up to 300 s");
    expect(r.status).toBe(0);
    expect(readFileSync(file.path, "utf8")).toBe(file.content);
    // The restart comes after the poll that read 0, two (fake) seconds later.
    expect(r.log.map((l) => l.replace(/ fs_cli.*/, " fs_cli"))).toEqual([
      `1000 inspect -f {{.State.Running}} ${CONTAINER}`,
      `1000 exec ${CONTAINER} fs_cli`,
      `1001 exec ${CONTAINER} fs_cli`,
      `1002 exec ${CONTAINER} fs_cli`,
      `1002 restart ${CONTAINER}`,
    ]);
  });
});
