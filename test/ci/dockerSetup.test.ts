/**
 * .ci/docker-setup.sh as someone who is not root, or not on Debian, runs it: an engine that answers
 * is used as it is, and nothing is installed; without one, it says what to do. The docker client
 * is a stand-in here (DOCKER=…), so the machine's real engine is neither needed nor touched, and the
 * script runs as the unprivileged user `nobody` (as this user when the test itself is not root).
 *
 * `nobody` cannot enter a directory only its owner may (a checkout under /root or under
 * `mktemp -d`), so the scripts run from a copy in a directory every user may enter.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../support/environment";

const CHECKOUT_CI = join(PROJECT_DIR, ".ci");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** True when every directory from / down to `path` lets any user through (o+x). */
function everyoneMayEnter(path: string): boolean {
  for (let p = path; ; p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (p === dirname(p)) return true;
  }
}

/** A fresh directory any user may enter and write: under the temporary directory when `nobody` can reach it (TMPDIR may be private), else under /tmp. */
function sharedScratch(prefix: string): string {
  const base = everyoneMayEnter(tmpdir()) ? tmpdir() : "/tmp";
  const made = mkdtempSync(join(base, prefix));
  chmodSync(made, 0o777);
  dirs.push(made);
  return made;
}

const dir = sharedScratch("ops-docker-setup-");

/** Copies the .ci scripts of `checkout` (docker-setup.sh sources lib.sh and runs its siblings) to where `nobody` may read them. */
function scriptsFrom(checkout: string): string {
  const copy = join(sharedScratch("ops-docker-setup-ci-"), ".ci");
  mkdirSync(copy);
  for (const f of readdirSync(checkout).filter((f) => f.endsWith(".sh"))) {
    cpSync(join(checkout, f), join(copy, f));
    chmodSync(join(copy, f), 0o644); // a checkout made under umask 077 has files only its owner may read
  }
  chmodSync(copy, 0o755);
  return join(copy, "docker-setup.sh");
}
const SCRIPT = scriptsFrom(CHECKOUT_CI);

const stub = (name: string, body: string) => {
  writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> "$STUB_CALLS"\n${body}`);
  chmodSync(join(dir, name), 0o755);
};
// The docker client: `info` answers when STUB_ENGINE=up; `image inspect` knows the base image
// when STUB_IMAGE is "ours" (built by the script: labelled) or "foreign" (e.g. a pulled node image).
stub(
  "docker",
  `case "$1" in
  info) [ "$STUB_ENGINE" = up ] && exit 0
        echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;
  image) case "$*" in *-rootfs*) exit 1 ;; esac
         [ "$STUB_IMAGE" = absent ] && exit 1
         case "$*" in
           *fshetzner.base.ca*) [ "$STUB_IMAGE" = ours ] && echo none ;;
           *fshetzner.base.suite*) [ "$STUB_IMAGE" = ours ] && echo forky ;;
         esac
         exit 0 ;;
esac
exit 0
`,
);
for (const tool of ["apt-get", "dockerd", "debootstrap"]) stub(tool, "exit 0\n");

function setup(engine: "up" | "down", image: "ours" | "foreign" | "absent", script = SCRIPT) {
  const calls = join(dir, `calls-${engine}-${image}`);
  writeFileSync(calls, "");
  chmodSync(calls, 0o666);
  const env = {
    PATH: `${dir}:/usr/local/bin:/usr/bin:/bin`,
    DOCKER: join(dir, "docker"),
    BASE_IMAGE: "ops-test/base:node24",
    HOST_CA_DIR: join(dir, "no-extra-cas"),
    XDG_RUNTIME_DIR: dir,
    STUB_CALLS: calls,
    STUB_ENGINE: engine,
    STUB_IMAGE: image,
  };
  const asNobody = process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
  const run = spawnSync(asNobody[0] ?? "bash", [...asNobody.slice(1), ...(asNobody.length ? ["bash"] : []), script], {
    env,
    encoding: "utf8",
    timeout: 30_000,
  });
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    calls: readFileSync(calls, "utf8").split("\n").filter(Boolean),
  };
}

const installedOrStarted = (calls: string[]) => calls.filter((c) => /^(apt-get|dockerd|debootstrap) /.test(c));

describe(".ci/docker-setup.sh without root", () => {
  it("uses an engine that answers and the base image it built before, installing and starting nothing", () => {
    const run = setup("up", "ours");
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("ops-test/base:node24\n");
    expect(run.stderr).toContain("step 2 (dockerd): already running");
    expect(run.stderr).toContain("step 3 (base image): ops-test/base:node24 already exists");
    expect(installedOrStarted(run.calls)).toEqual([]);
    expect(run.calls).toContain("docker info");
  });

  it("runs the same from a checkout in a directory only its owner may enter (a clone under /root or mktemp -d)", () => {
    const privateCheckout = mkdtempSync(join(tmpdir(), "ops-private-checkout-"));
    dirs.push(privateCheckout);
    chmodSync(privateCheckout, 0o700);
    cpSync(CHECKOUT_CI, join(privateCheckout, ".ci"), { recursive: true });
    const run = setup("up", "ours", scriptsFrom(join(privateCheckout, ".ci")));
    expect(run.stderr).not.toContain("Permission denied");
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("ops-test/base:node24\n");
  });

  it("uses a base image it did not build (BASE_IMAGE=node:24-bookworm-slim, pulled) as it is", () => {
    const run = setup("up", "foreign");
    expect(run.status).toBe(0);
    expect(run.stderr).toContain("using ops-test/base:node24 as it is");
    expect(run.stdout).toBe("ops-test/base:node24\n");
    expect(run.calls.filter((c) => c.startsWith("docker build") || c.startsWith("docker import"))).toEqual([]);
  });

  it("says how to get a base image when it is missing and cannot be built without root", () => {
    const run = setup("up", "absent");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "The base image ops-test/base:node24 does not exist, and building it needs root on Debian",
    );
    expect(run.stderr).toContain("BASE_IMAGE=node:24-bookworm-slim");
    expect(installedOrStarted(run.calls)).toEqual([]);
  });

  it("fails with what to do when no engine answers, quoting docker's reason", () => {
    const run = setup("down", "ours");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("No Docker engine answers");
    expect(run.stderr).toContain("Is the docker daemon running?");
    expect(run.stderr).toMatch(/Start one and run this again/);
    expect(run.stderr).toMatch(/run this script as root on Debian/);
    expect(installedOrStarted(run.calls)).toEqual([]);
  });
});
