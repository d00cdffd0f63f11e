/**
 * .ci/debian-image.sh, the one debootstrap-to-image helper, and both images built on it: the e2e
 * host (test/support/e2eHost/build-image.sh) and the Node.js base (.ci/base-image.sh with
 * base-rootfs.sh). debootstrap, docker, apt-get and chroot are stand-ins on PATH: debootstrap lays
 * out a small root with what the helper must clean up, docker keeps the tar stream `docker import`
 * is given, so nothing is downloaded and the machine's engine is neither needed nor touched.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../support/environment";

const HELPER = join(PROJECT_DIR, ".ci", "debian-image.sh");
const E2E_HOST = join(PROJECT_DIR, "test", "support", "e2eHost", "build-image.sh");
const BASE_IMAGE = join(PROJECT_DIR, ".ci", "base-image.sh");
const BASE_ROOTFS = join(PROJECT_DIR, ".ci", "base-rootfs.sh");
const dir = mkdtempSync(join(tmpdir(), "ops-debian-image-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stub = (name: string, body: string) => {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}`);
  chmodSync(join(dir, name), 0o755);
};
// debootstrap --variant=minbase --include=P SUITE ROOT MIRROR [SCRIPT]: a root with downloaded
// .debs, apt lists, the host's resolv.conf and something under /dev, as a real one may have.
stub(
  "debootstrap",
  `echo "debootstrap $*" >> "$STUB_CALLS"
[ -n "$STUB_DEBOOTSTRAP_FAILS" ] && { echo "E: Couldn't download packages: stub"; exit 1; }
root=$4
mkdir -p "$root/etc/ssh" "$root/dev" "$root/usr/bin" "$root/usr/local/sbin" "$root/var/cache/apt/archives" "$root/var/lib/apt/lists" \
  "$root/usr/share/doc/nodejs" "$root/usr/share/man/man1" "$root/var/log"
echo "nameserver 10.0.0.1" > "$root/etc/resolv.conf"
echo buildhost > "$root/etc/hostname"
echo deb > "$root/var/cache/apt/archives/nodejs.deb"
echo cache > "$root/var/cache/apt/pkgcache.bin"
echo copyright > "$root/usr/share/doc/nodejs/copyright"
echo readme > "$root/usr/share/doc/nodejs/README.gz"
echo man > "$root/usr/share/man/man1/node.1.gz"
echo log > "$root/var/log/dpkg.log"
echo list > "$root/var/lib/apt/lists/deb.debian.org_debian_dists_forky_InRelease"
echo key > "$root/etc/ssh/ssh_host_ed25519_key"
echo node > "$root/usr/bin/node"
echo leftover > "$root/dev/leftover"
`,
);
// docker: `image inspect` knows no image until one was built (then it answers base-image.sh's
// questions); `import` keeps its arguments (one a line) and its stdin.
stub(
  "docker",
  `echo "docker $1 $2" >> "$STUB_CALLS"
case "$1" in
  info) exit 0 ;;
  image) [ -f "$STUB_IMPORT_TAR.built" ] || exit 1
         case "$*" in *fshetzner.base.node*) echo v24.11.1 ;; *Size*) echo 123000000 ;; *) echo sha256:0 ;; esac ;;
  import) shift; printf '%s\\n' "$@" > "$STUB_IMPORT_ARGS"; cat > "$STUB_IMPORT_TAR" ;;
  build) touch "$STUB_IMPORT_TAR.built" ;;
esac
`,
);
stub("apt-get", `[ "$1" = indextargets ] && printf '%s\\n' $STUB_APT_URIS\nexit 0\n`);
// chroot ROOT /usr/bin/node -e ...: the node the suite ships.
stub("chroot", `printf '%s' "\${STUB_NODE_VERSION:-v24.11.1}"\n`);

// The suite scripts this debootstrap has (DEBOOTSTRAP_DIR, as debootstrap reads it): bookworm and
// sid, so the outcome does not depend on whether the machine running the tests has debootstrap.
const debootstrapDir = join(dir, "debootstrap-dir");
mkdirSync(join(debootstrapDir, "scripts"), { recursive: true });
for (const suite of ["bookworm", "sid"]) writeFileSync(join(debootstrapDir, "scripts", suite), "");

let runs = 0;
function run(script: string, args: readonly string[], env: Record<string, string> = {}) {
  const id = `run-${++runs}`;
  const files = { calls: join(dir, `${id}.calls`), args: join(dir, `${id}.import-args`), tar: join(dir, `${id}.tar`) };
  writeFileSync(files.calls, "");
  const result = spawnSync("bash", [script, ...args], {
    encoding: "utf8",
    timeout: 30_000,
    env: {
      PATH: `${dir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
      DEBOOTSTRAP_DIR: debootstrapDir,
      STUB_CALLS: files.calls,
      STUB_IMPORT_ARGS: files.args,
      STUB_IMPORT_TAR: files.tar,
      STUB_APT_URIS: "http://deb.debian.org/debian-security/ http://mirror.example/debian/",
      ...env,
    },
  });
  const tarList = existsSync(files.tar)
    ? spawnSync("tar", ["-tf", files.tar], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)
    : [];
  const fileInTar = (path: string) => spawnSync("tar", ["-xOf", files.tar, path], { encoding: "utf8" });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    calls: readFileSync(files.calls, "utf8").split("\n").filter(Boolean),
    importArgs: existsSync(files.args) ? readFileSync(files.args, "utf8").split("\n").filter(Boolean) : undefined,
    tarList,
    fileInTar,
  };
}

describe(".ci/debian-image.sh", () => {
  it("bootstraps minbase with the packages from the mirror apt uses, cleans up, imports with the changes and labels, and prints the tag", () => {
    const setup = join(dir, "setup-ok.sh");
    writeFileSync(setup, `set -e\necho made > "$1/usr/local/sbin/from-setup"\necho 'LABEL example.version=1.2.3'\n`);
    const r = run(HELPER, [
      "--setup",
      setup,
      "--change",
      "ENV LANG=C.UTF-8",
      "--change",
      'CMD ["node"]',
      "--label",
      "example.suite=nosuch",
      "nosuch",
      "nodejs,ca-certificates",
      "example/base:test",
    ]);
    expect(r.stderr).not.toContain("FAILED");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("example/base:test\n");
    // A suite this debootstrap has no script for is bootstrapped with sid's.
    expect(r.calls[0]).toMatch(
      /^debootstrap --variant=minbase --include=nodejs,ca-certificates nosuch \/var\/tmp\/debian-image\.\w+ http:\/\/mirror\.example\/debian\/ (\S+)$/,
    );
    expect(r.calls[0].split(" ").at(-1)).toBe(join(debootstrapDir, "scripts", "sid"));
    expect(r.importArgs).toEqual([
      "--change",
      "ENV LANG=C.UTF-8",
      "--change",
      'CMD ["node"]',
      "--change",
      "LABEL example.suite=nosuch",
      "--change",
      "LABEL example.version=1.2.3",
      "-",
      "example/base:test",
    ]);
    expect(r.tarList).toEqual(
      expect.arrayContaining([
        "./usr/bin/node",
        "./usr/local/sbin/from-setup",
        "./etc/ssh/ssh_host_ed25519_key",
        "./dev/",
        "./var/lib/apt/lists/",
      ]),
    );
    expect(
      r.tarList.filter((p) => p.endsWith(".deb") || p.includes("InRelease") || p.startsWith("./dev/leftover")),
    ).toEqual([]);
    expect(r.fileInTar("./etc/resolv.conf").stdout).toBe("");
    // The temporary root is gone.
    const root = r.calls[0].split(" ")[4];
    expect(existsSync(root)).toBe(false);
  });

  it("takes the mirror it is given, and falls back to deb.debian.org when apt names none", () => {
    expect(run(HELPER, ["--mirror", "http://given.example/debian", "bookworm", "p", "t:1"]).calls[0]).toContain(
      " http://given.example/debian",
    );
    expect(run(HELPER, ["--print-mirror"]).stdout).toBe("http://mirror.example/debian/\n");
    expect(run(HELPER, ["--print-mirror"], { STUB_APT_URIS: "http://archive.ubuntu.com/ubuntu/" }).stdout).toBe(
      "http://deb.debian.org/debian/\n",
    );
  });

  it("stops without importing when debootstrap fails, showing its log", () => {
    const r = run(HELPER, ["bookworm", "p", "t:2"], { STUB_DEBOOTSTRAP_FAILS: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("E: Couldn't download packages: stub");
    expect(r.stderr).toContain("FAILED: debootstrap of bookworm from http://mirror.example/debian/; t:2 NOT built");
    expect(r.calls.filter((c) => c.startsWith("docker"))).toEqual([]);
    expect(r.stdout).toBe("");
  });

  it("stops without importing when the setup script fails", () => {
    const setup = join(dir, "setup-fails.sh");
    writeFileSync(setup, `echo "node is too old" >&2\nexit 3\n`);
    const r = run(HELPER, ["--setup", setup, "bookworm", "p", "t:3"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("node is too old");
    expect(r.calls.filter((c) => c.startsWith("docker"))).toEqual([]);
  });

  it("refuses a wrong command line with its usage", () => {
    const r = run(HELPER, ["bookworm", "p"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage: bash .ci/debian-image.sh [options] SUITE PACKAGES TAG");
  });
});

describe("the e2e host image (test/support/e2eHost/build-image.sh) through the helper", () => {
  it("builds a bookworm root made a fresh machine, tagged by a key of its inputs, labelled with it, booting e2e-boot", () => {
    const r = run(E2E_HOST, [], { E2E_HOST_REPO: "example/e2e-host" });
    expect(r.status).toBe(0);
    const tag = r.stdout.trim();
    expect(tag).toMatch(/^example\/e2e-host:[0-9a-f]{16}$/);
    const key = tag.split(":")[1];
    expect(r.calls[0]).toBe(`docker image inspect`);
    expect(r.calls[1]).toMatch(
      /^debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,openssh-server,docker\.io,ufw,fail2ban,\S+ bookworm \S+ http:\/\/mirror\.example\/debian\/$/,
    );
    expect(r.importArgs).toEqual([
      "--change",
      'CMD ["/usr/local/sbin/e2e-boot"]',
      "--change",
      `LABEL telephony.e2e.host=${key}`,
      "-",
      tag,
    ]);
    expect(r.tarList).toEqual(
      expect.arrayContaining([
        "./usr/local/sbin/e2e-boot",
        "./etc/systemd/system/ssh.service.d/e2e-host-keys.conf",
        "./etc/systemd/system/apt-daily.timer",
      ]),
    );
    expect(r.tarList.filter((p) => p.includes("ssh_host_"))).toEqual([]);
    expect(r.fileInTar("./etc/machine-id").stdout).toBe("");
    expect(r.fileInTar("./etc/hostname").stdout).toBe("e2e-host\n");
    expect(r.fileInTar("./etc/docker/daemon.json").stdout).toBe('{ "bip": "192.0.2.129/25" }\n');
    // The mirror is among the inputs of the key.
    const other = run(E2E_HOST, [], {
      E2E_HOST_REPO: "example/e2e-host",
      E2E_HOST_MIRROR: "http://other.example/debian/",
    });
    expect(other.stdout.trim()).not.toBe(tag);
  });
});

describe("the Node.js base image's root (.ci/base-rootfs.sh) through the helper", () => {
  it("checks the node it got, slims the root and labels the image with the suite and node version", () => {
    const r = run(HELPER, ["--setup", BASE_ROOTFS, "forky", "nodejs,ca-certificates", "example/base:node24-rootfs"], {
      BASE_SUITE: "forky",
    });
    expect(r.status).toBe(0);
    expect(r.importArgs).toEqual([
      "--change",
      "LABEL fshetzner.base.suite=forky fshetzner.base.node=v24.11.1",
      "-",
      "example/base:node24-rootfs",
    ]);
    expect(r.tarList).toEqual(expect.arrayContaining(["./usr/share/doc/nodejs/copyright", "./usr/share/man/"]));
    expect(r.tarList.filter((p) => /README|node\.1|pkgcache\.bin|dpkg\.log|\.deb$/.test(p))).toEqual([]);
    expect(r.fileInTar("./etc/hostname").stdout).toBe("localhost\n");
  });

  it("refuses a suite whose node is older than BASE_MIN_NODE_MAJOR", () => {
    const r = run(HELPER, ["--setup", BASE_ROOTFS, "trixie", "nodejs,ca-certificates", "example/base:old"], {
      BASE_SUITE: "trixie",
      STUB_NODE_VERSION: "v20.19.2",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("trixie ships node v20.19.2, need >= 24 (set BASE_SUITE)");
    expect(r.importArgs).toBeUndefined();
  });

  // base-image.sh builds only as root on Debian with debootstrap installed (elsewhere it says what to do: dockerSetup.test.ts).
  const canBuild = process.getuid?.() === 0 && existsSync("/etc/debian_version") && existsSync("/usr/sbin/debootstrap");
  it.skipIf(!canBuild)(
    "as .ci/base-image.sh builds it (root on Debian): the rootfs with node's ENV and CMD, then the CA layer; stdout is the image's name",
    () => {
      const r = run(BASE_IMAGE, [], {
        BASE_IMAGE: "example/base:node24",
        HOST_CA_DIR: join(dir, "no-extra-cas"),
        BASE_MIRROR: "http://given.example/debian",
        DOCKER: join(dir, "docker"),
      });
      expect(r.stderr).not.toContain("FAILED");
      expect(r.status).toBe(0);
      expect(r.stdout).toBe("example/base:node24\n");
      expect(r.calls.find((c) => c.startsWith("debootstrap"))).toMatch(/ forky \S+ http:\/\/given\.example\/debian /);
      expect(r.importArgs).toEqual([
        "--change",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--change",
        "ENV LANG=C.UTF-8",
        "--change",
        'CMD ["node"]',
        "--change",
        "LABEL fshetzner.base.suite=forky fshetzner.base.node=v24.11.1",
        "-",
        "example/base:node24-rootfs",
      ]);
      expect(r.calls).toContain("docker build -q");
    },
  );
});
