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
  freeswitchImageName,
  freeswitchPackages,
  isPinnedImage,
  renderFreeswitchDockerfile,
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

  it("installs FreeSWITCH's core and one package for each module the stack loads, nothing from source", () => {
    expect(freeswitchPackages()).toEqual(["freeswitch", ...MODULES.map((m) => `freeswitch-${m.replace(/_/g, "-")}`)]);
    expect(dockerfile).toContain(`apt-get install -y --no-install-recommends ${freeswitchPackages().join(" ")} `);
    expect(dockerfile).not.toMatch(/configure|make install|git clone|bootstrap\.sh/);
  });

  it("pins the packages to the FreeSWITCH release", () => {
    expect(dockerfile).toContain(`Pin: version ${FREESWITCH_VERSION}*`);
    expect(dockerfile).toContain(`freeswitch -version | grep -F " ${FREESWITCH_VERSION}"`);
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
