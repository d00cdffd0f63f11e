/**
 * What the FreeSWITCH image is built from: the upstream sources pinned by commit ID (the one place
 * both the test build and the deploy build read) and the modules the stack loads. The Dockerfile
 * (files/freeswitch/) verifies each tarball's commit ID; the image tag is a hash of everything
 * that goes into the build, so only a change to the sources, the module list or the build files
 * makes a new image. Pure data and text: components/freeswitchImage.ts writes the build context.
 */
import { createHash } from "node:crypto";
import { MODULES } from "./render/core";

export interface UpstreamSource {
  /** Tarball name in the build context's sources/ (name.tar.xz or name.tar.gz). */
  readonly name: string;
  /** GitHub owner/repository. */
  readonly repository: string;
  /** The full commit ID the tarball must carry (`git get-tar-commit-id`). */
  readonly commit: string;
}

export const FREESWITCH_SOURCES: readonly UpstreamSource[] = [
  // tag v1.13.17
  { name: "sofia-sip", repository: "freeswitch/sofia-sip", commit: "6198851a610b7889c17e2d98fb84617bc1dd7aec" },
  // 3.0.0 (upstream has no tags)
  { name: "spandsp", repository: "freeswitch/spandsp", commit: "0d2e6ac65e0e8f53d652665a743015a88bf048d4" },
  // tag v1.10.12
  { name: "freeswitch", repository: "signalwire/freeswitch", commit: "a88d069d6ffb74df797bcaf001f7e63181c07a09" },
];

// Not "telephony-freeswitch": that is the container's name, and `docker inspect <name>` must find only the container.
export const FREESWITCH_IMAGE_REPO = "telephony/freeswitch";

/** Where each loaded module lives in FreeSWITCH's source tree (src/mod/<dir>/<module>). */
const MODULE_DIRS: Readonly<Record<(typeof MODULES)[number], string>> = {
  mod_console: "loggers",
  mod_logfile: "loggers",
  mod_event_socket: "event_handlers",
  mod_xml_curl: "xml_int",
  mod_commands: "applications",
  mod_dptools: "applications",
  mod_dialplan_xml: "dialplans",
  mod_sofia: "endpoints",
  mod_loopback: "endpoints",
  mod_opus: "codecs",
  mod_sndfile: "formats",
  mod_native_file: "formats",
  mod_tone_stream: "formats",
};

/** FreeSWITCH's build-time modules.conf: exactly the modules the rendered modules.conf loads. */
export function buildModulesConf(): string {
  return MODULES.map((m) => `${MODULE_DIRS[m]}/${m}\n`).join("");
}

/** sources.txt in the build context: "name repository commit" per line, read by build.sh and fetch-sources.sh. */
export function sourcesTxt(): string {
  return "# name repository commit (pinned in sip/freeswitchImage.ts)\n" + FREESWITCH_SOURCES.map((s) => `${s.name} ${s.repository} ${s.commit}\n`).join("");
}

/** GitHub's archive of a commit: its pax header carries the commit ID, as `git archive` does. */
export function archiveUrl(source: UpstreamSource): string {
  return `https://github.com/${source.repository}/archive/${source.commit}.tar.gz`;
}

/** The image tag: a hash of every file of the build context except the tarballs (their commit IDs are in sources.txt). */
export function freeswitchImageTag(contextFiles: Readonly<Record<string, string>>): string {
  const hash = createHash("sha256");
  for (const name of Object.keys(contextFiles).sort()) hash.update(`${name}\0${contextFiles[name]}\0`);
  return hash.digest("hex").slice(0, 16);
}
