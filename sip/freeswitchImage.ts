/**
 * Which FreeSWITCH the stack runs, and what any FreeSWITCH image must offer it.
 *
 * Default: FreeSWITCH's own Debian packages from SignalWire's repository (the official
 * distribution channel; it needs the operator's SignalWire token), installed on the host into an
 * image FROM a Debian base pinned by digest. The token reaches the build as a BuildKit secret: it is
 * mounted for the one RUN that installs the packages and lands in no layer, no history and no
 * Pulumi plan. `freeswitch.image` replaces all of this with an image pinned by digest.
 *
 * Pure data and text: components/freeswitchImage.ts runs the build on the host.
 */
import { createHash } from "node:crypto";
import { MODULES } from "./render/core";

/**
 * The FreeSWITCH release the packaged image installs: every package at exactly this release's
 * Debian version, resolved in the build from what SignalWire's repository offers.
 */
export const FREESWITCH_VERSION = "1.11.2";

/**
 * 1.11.2 needs sofia-sip 1.13.18 or later (its configure and its packages' Depends say so; Debian 12
 * has 1.12.11): only SignalWire's own libsofia-sip-ua0 satisfies it, and the build checks it got it.
 * 1.13.18 is also the sofia-sip that brings nua_reload_tls, which `reloadcert` needs to reach Sofia.
 */
export const SOFIA_SIP_MIN_VERSION = "1.13.18";

/** What the packaged image is built FROM: Debian 12, the release SignalWire packages FreeSWITCH for. */
export const FREESWITCH_BASE_IMAGE =
  "debian:bookworm-slim@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251";

/** SignalWire's repository of FreeSWITCH release packages; the token is the HTTP password. */
export const SIGNALWIRE_REPOSITORY = "https://freeswitch.signalwire.com/repo/deb/debian-release/";
const SIGNALWIRE_KEYRING = "/usr/share/keyrings/signalwire-freeswitch-repo.gpg";

/** Not "telephony-freeswitch": that is the container's name, and `docker inspect <name>` must find only the container. */
export const FREESWITCH_IMAGE_REPO = "telephony/freeswitch";

/** The BuildKit secret's id: `docker build --secret id=<this>,src=<file>`. */
export const SIGNALWIRE_TOKEN_SECRET_ID = "signalwire_token";

/** The Debian package of each module the stack loads (FreeSWITCH's debian/ packaging names). */
const MODULE_PACKAGES: Readonly<Record<(typeof MODULES)[number], string>> = {
  mod_console: "freeswitch-mod-console",
  mod_logfile: "freeswitch-mod-logfile",
  mod_event_socket: "freeswitch-mod-event-socket",
  mod_xml_curl: "freeswitch-mod-xml-curl",
  mod_commands: "freeswitch-mod-commands",
  mod_dptools: "freeswitch-mod-dptools",
  mod_dialplan_xml: "freeswitch-mod-dialplan-xml",
  mod_sofia: "freeswitch-mod-sofia",
  mod_loopback: "freeswitch-mod-loopback",
  mod_opus: "freeswitch-mod-opus",
  mod_sndfile: "freeswitch-mod-sndfile",
  mod_native_file: "freeswitch-mod-native-file",
  mod_tone_stream: "freeswitch-mod-tone-stream",
};

/** The packages installed: the core (freeswitch, which carries fs_cli) and one per loaded module. */
export function freeswitchPackages(): string[] {
  return ["freeswitch", ...MODULES.map((m) => MODULE_PACKAGES[m])];
}

/**
 * The directories FreeSWITCH is started with (FREESWITCH_COMMAND). The configuration is the stack's
 * rendered tree, mounted read-only; the log directory is the host's (fail2ban reads it); the
 * others are the container's own.
 */
export const FREESWITCH_DIRS = {
  conf: "/etc/freeswitch",
  log: "/var/log/freeswitch",
  db: "/var/lib/freeswitch/db",
  run: "/run/freeswitch",
  storage: "/var/lib/freeswitch/storage",
  recordings: "/var/lib/freeswitch/recordings",
  sounds: "/var/lib/freeswitch/sounds",
  temp: "/tmp/freeswitch",
} as const;

/** The directories the image must hold, writable by root (all but conf and log, which are mounted). */
export const FREESWITCH_IMAGE_DIRS = (["db", "run", "storage", "recordings", "sounds", "temp"] as const).map(
  (d) => FREESWITCH_DIRS[d],
);

/**
 * How the container starts FreeSWITCH, whatever the image's own entrypoint: in the foreground as
 * PID 1 (-nf), with no console on stdin (-nc), no NAT-PMP/UPnP probing (-nonat: the rendered
 * profiles set every address), as root (no -u: the secret files it reads are 0600 root), with the
 * rendered tree as its whole configuration.
 */
export const FREESWITCH_COMMAND: readonly string[] = [
  "freeswitch",
  "-nf",
  "-nc",
  "-nonat",
  ...Object.entries(FREESWITCH_DIRS).flatMap(([flag, dir]) => [`-${flag}`, dir]),
];

/**
 * What only a test changes: the base image (no registry is reachable there) and the repository (a
 * stand-in on loopback, unsigned, so `[trusted=yes]` takes the place of SignalWire's keyring).
 */
export interface FreeswitchDockerfileOptions {
  readonly baseImage?: string;
  readonly repository?: { readonly url: string; readonly unsigned: true };
}

/** A regular expression (grep -E) for the Debian versions of one upstream FreeSWITCH release. */
export function debianVersionPattern(version: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`not a FreeSWITCH release: ${JSON.stringify(version)}`);
  // SignalWire's versions read 1.10.12~release~<build>~<commit>~bookworm-1~bookworm+1 (util.sh) or
  // 1.10.12-release-<build>-<commit>~bookworm (the packaging CI): the release, then ~, - or +.
  return `^${version.replace(/\./g, "\\.")}([~+-]|$)`;
}

/**
 * The Dockerfile of the packaged image. Plain Dockerfile syntax plus `RUN --mount=type=secret`,
 * which the Dockerfile frontend built into Docker 20.10 and later understands (DOCKER_BUILDKIT=1).
 *
 * Every package is installed at one exact Debian version, resolved from `apt-cache madison`: a
 * preference pin on `<release>*` matches nothing once the repository drops that release, and apt
 * then installs whatever it has without a word. When the release is not offered, the build stops
 * with one line naming it and what the repository offers.
 */
export function renderFreeswitchDockerfile(options: FreeswitchDockerfileOptions = {}): string {
  const baseImage = options.baseImage ?? FREESWITCH_BASE_IMAGE;
  const repository = options.repository?.url ?? SIGNALWIRE_REPOSITORY;
  const url = new URL(repository);
  // apt sends credentials over plain HTTP only to a machine written with http:// (a stand-in on
  // loopback); SignalWire's is HTTPS, where the bare host is what curl's netrc matches too.
  const machine = url.protocol === "http:" ? `http://${url.host}` : url.host;
  const source = options.repository?.unsigned ? "[trusted=yes]" : `[signed-by=${SIGNALWIRE_KEYRING}]`;
  const exact = freeswitchPackages()
    .map((p) => `${p}="$version"`)
    .join(" ");
  const lines = [
    "# FreeSWITCH from SignalWire's Debian packages, with the modules the stack loads.",
    "# Rendered by the stack (sip/freeswitchImage.ts); built on the host with the token as a BuildKit secret.",
    `FROM ${baseImage}`,
    "ENV DEBIAN_FRONTEND=noninteractive",
    // `apt-get update` exits 0 when every fetch failed; --error-on=any makes a dead mirror fail here.
    "RUN apt-get update --error-on=any \\",
    " && apt-get install -y --no-install-recommends ca-certificates curl \\",
    " && rm -rf /var/lib/apt/lists/*",
    "# The token is read from the secret mount and written only to files this RUN deletes again.",
    `# Every package at the one Debian version of FreeSWITCH ${FREESWITCH_VERSION} the repository offers, or no image.`,
    `RUN --mount=type=secret,id=${SIGNALWIRE_TOKEN_SECRET_ID} \\`,
    `    test -s /run/secrets/${SIGNALWIRE_TOKEN_SECRET_ID} || { echo "no SignalWire token: set telephony:secrets.signalwireToken" >&2; exit 1; }; \\`,
    `    token=$(cat /run/secrets/${SIGNALWIRE_TOKEN_SECRET_ID}) \\`,
    ` && printf 'machine ${machine} login signalwire password %s\\n' "$token" > /etc/apt/auth.conf.d/signalwire.conf \\`,
    " && chmod 0600 /etc/apt/auth.conf.d/signalwire.conf \\",
    ` && curl -fsS --netrc-file /etc/apt/auth.conf.d/signalwire.conf -o ${SIGNALWIRE_KEYRING} ${repository}signalwire-freeswitch-repo.gpg \\`,
    ` && echo "deb ${source} ${repository} bookworm main" > /etc/apt/sources.list.d/freeswitch.list \\`,
    " && apt-get update --error-on=any \\",
    ` && offered=$(apt-cache madison freeswitch | awk -F'|' '{ gsub(/ /, "", $2); print $2 }') \\`,
    ` && version=$(printf '%s\\n' "$offered" | grep -E '${debianVersionPattern(FREESWITCH_VERSION)}' | head -n 1) \\`,
    ` && { [ -n "$version" ] || { echo "FreeSWITCH ${FREESWITCH_VERSION} is not in the repository ${repository} (bookworm main); it offers freeswitch $(echo \${offered:-nothing} | sed 's/ /, /g')" >&2; false; }; } \\`,
    ` && echo "FreeSWITCH ${FREESWITCH_VERSION} is $version here" \\`,
    ` && apt-get install -y --no-install-recommends ${exact} \\`,
    " ; status=$?; rm -f /etc/apt/auth.conf.d/signalwire.conf; rm -rf /var/lib/apt/lists/*; exit $status",
    // Nothing of the packages' vanilla configuration may survive: the stack's tree is mounted there.
    `RUN rm -rf ${FREESWITCH_DIRS.conf} && mkdir -p ${FREESWITCH_DIRS.conf} ${FREESWITCH_DIRS.log} ${FREESWITCH_IMAGE_DIRS.join(" ")} \\`,
    ` && freeswitch -version | grep -E ' ${FREESWITCH_VERSION.replace(/\./g, "\\.")}([^0-9]|$)' && command -v fs_cli \\`,
    ` && sofia=$(dpkg-query -W -f='\${Version}' libsofia-sip-ua0 2>/dev/null || echo none) \\`,
    ` && { dpkg --compare-versions "$sofia" ge ${SOFIA_SIP_MIN_VERSION} || { echo "FreeSWITCH ${FREESWITCH_VERSION} needs libsofia-sip-ua0 ${SOFIA_SIP_MIN_VERSION} or later (SignalWire's), got $sofia" >&2; false; }; }`,
    `LABEL org.opencontainers.image.title="telephony-freeswitch" org.opencontainers.image.version="${FREESWITCH_VERSION}"`,
  ];
  return lines.join("\n") + "\n";
}

/** The packaged image's name: its tag is a hash of the Dockerfile, so only a change to it makes a new image. */
export function freeswitchImageName(dockerfile: string = renderFreeswitchDockerfile()): string {
  return `${FREESWITCH_IMAGE_REPO}:${createHash("sha256").update(dockerfile).digest("hex").slice(0, 16)}`;
}

/**
 * A FreeSWITCH image named so that it cannot change under the same name: name@sha256:<digest>
 * (pulled from a registry), or a local image ID sha256:<id> (loaded onto the host by other means).
 */
export function isPinnedImage(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image) || /^sha256:[0-9a-f]{64}$/.test(image);
}
