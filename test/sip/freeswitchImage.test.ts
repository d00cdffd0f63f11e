/**
 * The FreeSWITCH the stack installs by default: SignalWire's Debian packages in an image built on
 * the host. The Dockerfile is what a reviewer reads in the preview, and the token must never enter
 * a layer.
 */
import { describe, expect, it } from "vitest";
import { MODULES } from "../../sip/render/core";
import {
  FREESWITCH_BASE_IMAGE,
  FREESWITCH_COMMAND,
  FREESWITCH_DIRS,
  FREESWITCH_VERSION,
  debianVersionPattern,
  freeswitchImageName,
  freeswitchPackages,
  isPinnedImage,
  renderFreeswitchDockerfile,
  SIGNALWIRE_REPOSITORY,
  SOFIA_SIP_MIN_VERSION,
} from "../../sip/freeswitchImage";

const dockerfile = renderFreeswitchDockerfile();
/** The Dockerfile's instructions, continuation lines joined. */
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .filter((l) => l && !l.startsWith("#"));

describe("the packaged FreeSWITCH image", () => {
  it("is built FROM a Debian 12 image pinned by digest", () => {
    expect(instructions[0]).toBe(`FROM ${FREESWITCH_BASE_IMAGE}`);
    expect(FREESWITCH_BASE_IMAGE).toMatch(/^debian:bookworm-slim@sha256:[0-9a-f]{64}$/);
  });

  it("installs FreeSWITCH's core and one package for each module the stack loads, each at the one exact version, nothing from source", () => {
    expect(freeswitchPackages()).toEqual(["freeswitch", ...MODULES.map((m) => `freeswitch-${m.replace(/_/g, "-")}`)]);
    expect(dockerfile).toContain(
      `apt-get install -y --no-install-recommends ${freeswitchPackages()
        .map((p) => `${p}="$version"`)
        .join(" ")} `,
    );
    expect(dockerfile).not.toMatch(/configure|make install|git clone|bootstrap\.sh/);
    // No preference pin: a glob that matches nothing lets apt install any version without a word.
    expect(dockerfile).not.toMatch(/preferences|Pin:/);
  });

  it("is FreeSWITCH 1.11.2 on SignalWire's libsofia-sip (1.13.18 or later), and checks both in the image", () => {
    expect(FREESWITCH_VERSION).toBe("1.11.2");
    expect(dockerfile).toContain("freeswitch -version | grep -E ' 1\\.11\\.2([^0-9]|$)'");
    expect(dockerfile).toContain(`dpkg --compare-versions "$sofia" ge ${SOFIA_SIP_MIN_VERSION}`);
    expect(SOFIA_SIP_MIN_VERSION).toBe("1.13.18");
  });

  it("resolves the exact Debian version from what the repository offers, by the release's upstream part only", () => {
    const wanted = new RegExp(debianVersionPattern("1.11.2"));
    for (const v of [
      "1.11.2~release~25~0123abcd~bookworm-1~bookworm+1",
      "1.11.2-release-25-0123abcd~bookworm",
      "1.11.2",
    ])
      expect(v, v).toMatch(wanted);
    for (const v of [
      "1.11.20~release~1~ab~bookworm-1~bookworm+1",
      "1.11.1~release~24~ab~bookworm-1",
      "1.10.12-release-14-f7d2d5c~bookworm",
      "11.11.2-1",
      "1.11.2.1",
    ])
      expect(v, v).not.toMatch(wanted);
    expect(dockerfile).toContain(`grep -E '${debianVersionPattern(FREESWITCH_VERSION)}' | head -n 1`);
    expect(() => debianVersionPattern("1.11")).toThrow(/not a FreeSWITCH release/);
  });

  it("fails in one line naming the release asked for and what the repository offers", () => {
    expect(dockerfile).toContain(
      `echo "FreeSWITCH 1.11.2 is not in the repository ${SIGNALWIRE_REPOSITORY} (bookworm main); it offers freeswitch $(echo \${offered:-nothing} | sed 's/ /, /g')" >&2; false;`,
    );
  });

  it("changes only its base image and repository for a test, and marks only a stand-in repository unsigned", () => {
    const standIn = renderFreeswitchDockerfile({
      baseImage: "local/bookworm:test",
      repository: { url: "http://127.0.0.1:8080/repo/", unsigned: true },
    });
    expect(standIn.split("\n")[2]).toBe("FROM local/bookworm:test");
    expect(standIn).toContain('echo "deb [trusted=yes] http://127.0.0.1:8080/repo/ bookworm main"');
    expect(standIn).toContain("printf 'machine http://127.0.0.1:8080 login signalwire password %s");
    expect(dockerfile).toContain(
      `echo "deb [signed-by=/usr/share/keyrings/signalwire-freeswitch-repo.gpg] ${SIGNALWIRE_REPOSITORY} bookworm main"`,
    );
    expect(dockerfile).not.toContain("trusted=yes");
    const same = (text: string) =>
      text
        .replaceAll(SIGNALWIRE_REPOSITORY, "R")
        .replace(/^FROM .*$/m, "FROM B")
        .replace("[signed-by=/usr/share/keyrings/signalwire-freeswitch-repo.gpg]", "[S]")
        .replace("freeswitch.signalwire.com", "H");
    expect(
      same(
        standIn
          .replaceAll("http://127.0.0.1:8080/repo/", SIGNALWIRE_REPOSITORY)
          .replace("[trusted=yes]", "[signed-by=/usr/share/keyrings/signalwire-freeswitch-repo.gpg]")
          .replace("http://127.0.0.1:8080", "freeswitch.signalwire.com"),
      ),
    ).toBe(same(dockerfile));
  });

  it("reads the SignalWire token only from a BuildKit secret, in one RUN that deletes what it wrote", () => {
    const withToken = instructions.filter((i) => i.includes("$token") || i.includes("signalwire_token"));
    expect(withToken).toHaveLength(1);
    const [run] = withToken;
    expect(run).toMatch(/^RUN --mount=type=secret,id=signalwire_token /);
    expect(run).toContain("rm -f /etc/apt/auth.conf.d/signalwire.conf");
    // The credentials file is removed whether the install worked or not, and the RUN keeps its status.
    expect(run).toMatch(/; status=\$\?; rm -f \/etc\/apt\/auth\.conf\.d\/signalwire\.conf; .*exit \$status$/);
    expect(dockerfile).not.toMatch(/^(ARG|ENV) .*TOKEN/im);
  });

  it("leaves none of the packages' vanilla configuration behind (the stack's tree is mounted there)", () => {
    expect(dockerfile).toContain(`RUN rm -rf ${FREESWITCH_DIRS.conf} && mkdir -p ${FREESWITCH_DIRS.conf} `);
  });

  it("is named by a hash of its Dockerfile", () => {
    expect(freeswitchImageName()).toMatch(/^telephony\/freeswitch:[0-9a-f]{16}$/);
    expect(freeswitchImageName(dockerfile)).toBe(freeswitchImageName());
    expect(freeswitchImageName(`${dockerfile}# changed\n`)).not.toBe(freeswitchImageName());
  });
});

describe("any FreeSWITCH image", () => {
  it("is started with the stack's command line: foreground, no console, root, the rendered tree", () => {
    expect(FREESWITCH_COMMAND.slice(0, 4)).toEqual(["freeswitch", "-nf", "-nc", "-nonat"]);
    expect(FREESWITCH_COMMAND).not.toContain("-u");
    expect(FREESWITCH_COMMAND.join(" ")).toContain("-conf /etc/freeswitch -log /var/log/freeswitch");
  });

  it("is accepted only pinned: by registry digest or by local image ID", () => {
    expect(isPinnedImage(`example/freeswitch@sha256:${"ab".repeat(32)}`)).toBe(true);
    expect(isPinnedImage(`sha256:${"ab".repeat(32)}`)).toBe(true);
    expect(isPinnedImage("example/freeswitch:1.10.12")).toBe(false);
    expect(isPinnedImage(`example/freeswitch:sha256-${"ab".repeat(32)}`)).toBe(false);
  });
});
