/**
 * How the rendered bundle reaches the host, as plain data and shell text: files grouped by reload
 * class (one Pulumi resource per group, so a preview names exactly the groups a change touches and
 * so what it disrupts), the stdin payload that carries them, and the container commands.
 * No Pulumi here: components/ wraps these in resources.
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import { API_SECRET_FILES, type ApiSettings, type ExtensionRecord } from "./apiContract";
import { drainCommand } from "./drain";
import {
  API_CONTAINER,
  API_CONTAINER_PATHS,
  API_HA_STATE,
  CONFIG_API_PORT,
  FREESWITCH_CONTAINER,
  HA_PATHS,
  HOST_ID_FILE,
  HOST_PATHS,
  HOST_ROOT,
} from "./hostLayout";
import { ACME_TIMER_UNIT, ifContainerRunning, reloadClassName, reloadCommand, type ReloadClass } from "./reload";
import type { RenderedFile } from "./renderedFile";
import {
  FREESWITCH_COMMAND,
  FREESWITCH_DIRS,
  FREESWITCH_IMAGE_REPO,
  SIGNALWIRE_TOKEN_SECRET_ID,
} from "./freeswitchImage";
import type { StackModel } from "./model";

export interface FileGroup {
  /** Resource-name-safe, e.g. "acl", "profile-internal". */
  readonly name: string;
  readonly reload: ReloadClass;
  readonly paths: readonly string[];
  /** Any file in the group holds a secret: its payload is a Pulumi secret. */
  readonly secret: boolean;
}

/** Groups files by reload class, in a stable order. The grouping depends on paths only, not contents. */
export function fileGroups(files: readonly RenderedFile[]): FileGroup[] {
  const groups = new Map<string, { reload: ReloadClass; paths: string[]; secret: boolean }>();
  for (const f of files) {
    const key = reloadClassName(f.reload).replace(":", "-");
    const g = groups.get(key) ?? { reload: f.reload, paths: [], secret: false };
    g.paths.push(f.path);
    g.secret ||= f.secret;
    groups.set(key, g);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, g]) => ({ name, ...g }));
}

/**
 * The stdin payload for a group: per file a header line "path mode bytes", the content as is, and
 * a newline. Length-prefixed raw content needs no escaping (quotes, `$${...}` and newlines pass
 * untouched) and stays readable, so `pulumi preview --diff` shows the changed lines themselves.
 * The payload travels over SSH stdin: never in a command line, a process list or a log.
 */
export function filesPayload(files: readonly RenderedFile[], paths: readonly string[]): string {
  return paths
    .map((path) => {
      const f = files.find((x) => x.path === path);
      if (!f) throw new Error(`file ${path} is not in the bundle`);
      return `${f.path} ${f.mode} ${Buffer.byteLength(f.content, "utf8")}\n${f.content}\n`;
    })
    .join("");
}

/** Reads a payload back into path → content (the inverse of filesPayload, for tests and tools). */
export function parseFilesPayload(payload: string): { path: string; mode: string; content: string }[] {
  const out: { path: string; mode: string; content: string }[] = [];
  const bytes = Buffer.from(payload, "utf8");
  let at = 0;
  while (at < bytes.length) {
    const eol = bytes.indexOf(0x0a, at);
    const [path, mode, size] = bytes.subarray(at, eol).toString("utf8").split(" ");
    const start = eol + 1;
    const end = start + Number(size);
    out.push({ path, mode, content: bytes.subarray(start, end).toString("utf8") });
    at = end + 1;
  }
  return out;
}

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Writes the payload's files atomically (temp file + rename, mode set before the rename), then
 * runs the group's reload action if the container it talks to is running (on the first deploy the
 * containers start after their files).
 */
/**
 * The config API runs as this uid (files/api/Dockerfile, ARG API_UID): its settings, secrets and
 * data on the host must belong to it, since secrets are 0600.
 */
export const API_UID = 10001;

export function writeFilesCommand(group: FileGroup): string {
  const reload = reloadCommand(group.reload, { ufwScript: HOST_PATHS.ufwScript });
  const container =
    group.reload.kind === "api-restart"
      ? API_CONTAINER
      : ["host-firewall", "fail2ban", "host-maintenance", "keepalived"].includes(group.reload.kind)
        ? undefined
        : FREESWITCH_CONTAINER;
  const apply =
    group.reload.kind === "fail2ban"
      ? // fail2ban refuses to start (every jail, sshd's too) while a jail's log file is missing,
        // and FreeSWITCH writes its log only once its container runs, after this group.
        `install -d -m 0755 $(dirname ${HOST_PATHS.freeswitchLogFile}) && touch ${HOST_PATHS.freeswitchLogFile}\n` +
        `if systemctl is-active --quiet fail2ban; then ${reload}; else systemctl restart fail2ban; fi`
      : container
        ? ifContainerRunning(container, reload)
        : reload;
  return [
    "set -euo pipefail",
    "umask 077",
    // `read` takes the header byte by byte and `head -c` exactly the content's bytes, so the next
    // header starts where this content ends; the second `read` eats the separating newline.
    "while read -r path mode size; do",
    '  install -d -m 0755 "$(dirname "$path")"',
    '  tmp=$(mktemp "$path.XXXXXX")',
    '  head -c "$size" > "$tmp"',
    "  IFS= read -r _ || true",
    '  chmod "$mode" "$tmp"',
    ...(group.reload.kind === "api-restart" ? [`  chown ${API_UID}:${API_UID} "$tmp"`] : []),
    '  mv -f "$tmp" "$path"',
    "done",
    apply,
  ].join("\n");
}

export const API_IMAGE_REPO = "telephony-config-api";

/** Builds the config API's image on the host from the copied bundle; tagged by the bundle's hash. */
export function apiImageBuildCommand(tag: string, baseImage: string): string {
  return `docker build --pull=false -t ${API_IMAGE_REPO}:${tag} --build-arg BASE_IMAGE=${baseImage} -f ${HOST_PATHS.apiImage}/Dockerfile ${HOST_PATHS.apiImage}`;
}

/**
 * Builds the packaged FreeSWITCH image on the host (sip/freeswitchImage.ts) unless the tag is
 * already there (an earlier deploy: the tag is a hash of the Dockerfile). The Dockerfile is part
 * of this command, so a preview shows a change to it; the SignalWire token arrives on stdin (a
 * secret input) and reaches the build only as a BuildKit secret file, removed when the step ends.
 */
export function freeswitchImageBuildCommand(
  image: string,
  dockerfile: string,
  log: string = HOST_PATHS.freeswitchImageBuildLog,
): string {
  return [
    "set -euo pipefail",
    `if docker image inspect ${image} >/dev/null 2>&1; then echo "${image} is already on the host"; exit 0; fi`,
    "umask 077",
    "dir=$(mktemp -d)",
    `trap 'rm -rf "$dir"' EXIT`,
    'mkdir "$dir/context"',
    'cat > "$dir/token"',
    `cat > "$dir/Dockerfile" <<'DOCKERFILE'`,
    dockerfile.trimEnd(),
    "DOCKERFILE",
    // The build log is long: kept on the host, its end shown only when the build fails.
    `log=${log}`,
    `install -d -m 0700 "$(dirname "$log")"`,
    `if ! DOCKER_BUILDKIT=1 docker build --progress=plain --secret id=${SIGNALWIRE_TOKEN_SECRET_ID},src="$dir/token" -t ${image} -f "$dir/Dockerfile" "$dir/context" >"$log" 2>&1; then`,
    `  echo "FreeSWITCH image build failed; last lines of $log:" >&2; tail -n 40 "$log" >&2; exit 1`,
    "fi",
    `echo "built ${image}"`,
  ].join("\n");
}

/**
 * Runs the config API: loopback port on the host network, settings and secrets mounted read-only;
 * on a host of a standby pair (settings with `ha`) also the directory keepalived's notify script
 * writes the role to, read-only, so the API follows the role (api/haRole.ts).
 */
export function apiRunCommand(image: string, settings: Pick<ApiSettings, "ha"> = {}): string {
  return [
    "set -euo pipefail",
    `install -d -m 0700 -o ${API_UID} -g ${API_UID} ${HOST_PATHS.apiData}`,
    `docker rm -f ${API_CONTAINER} >/dev/null 2>&1 || true`,
    [
      `docker run -d --name ${API_CONTAINER} --restart unless-stopped --network host`,
      `-e API_CONFIG=${API_CONTAINER_PATHS.config}`,
      `-v ${HOST_PATHS.apiConfig}:${API_CONTAINER_PATHS.config}:ro`,
      `-v ${HOST_PATHS.apiSecrets}:${API_CONTAINER_PATHS.secretsDir}:ro`,
      `-v ${HOST_PATHS.apiData}:${API_CONTAINER_PATHS.data}`,
      ...(settings.ha ? [`-v ${HA_PATHS.stateDir}:${posix.dirname(API_HA_STATE)}:ro`] : []),
      image,
    ].join(" "),
    // Wait for readiness so FreeSWITCH (which depends on this) finds the API answering.
    `for i in $(seq 1 60); do curl -fsS http://127.0.0.1:${CONFIG_API_PORT}/readyz >/dev/null 2>&1 && exit 0; sleep 1; done`,
    `echo "config API did not become ready in 60 s; docker logs ${API_CONTAINER}:" >&2; docker logs --tail 50 ${API_CONTAINER} >&2; exit 1`,
  ].join("\n");
}

/**
 * Runs FreeSWITCH on the host network (bridge networking gives one-way or no audio), with the
 * rendered tree as its whole configuration. It starts only once the config API answers, so the
 * profiles find their gateways on the first scan. A FreeSWITCH already running (the same script
 * as an update, on an image change) is drained first: up to `drainSeconds` for its calls to end,
 * then removed and started again from the new image.
 */
export function freeswitchRunCommand(image: string, drainSeconds: number): string {
  return [
    "set -euo pipefail",
    `for i in $(seq 1 60); do curl -fsS http://127.0.0.1:${CONFIG_API_PORT}/readyz >/dev/null 2>&1 && break; sleep 1; done`,
    `install -d -m 0755 ${HOST_PATHS.freeswitchLog}`,
    drainCommand(FREESWITCH_CONTAINER, drainSeconds),
    `docker rm -f ${FREESWITCH_CONTAINER} >/dev/null 2>&1 || true`,
    [
      `docker run -d --name ${FREESWITCH_CONTAINER} --restart unless-stopped --network host`,
      `-v ${HOST_PATHS.freeswitchConf}:${FREESWITCH_DIRS.conf}:ro`,
      `-v ${HOST_PATHS.fsCliConf}:/etc/fs_cli.conf:ro`,
      `-v ${HOST_PATHS.freeswitchLog}:${FREESWITCH_DIRS.log}`,
      // The command line and the user are the stack's, not the image's: any image with `freeswitch`
      // on PATH runs alike, as root, which reads the 0600 root secret files.
      "--user 0:0",
      `--entrypoint ${FREESWITCH_COMMAND[0]}`,
      image,
      ...FREESWITCH_COMMAND.slice(1),
    ].join(" "),
  ].join("\n");
}

export const removeContainerCommand = (name: string) => `docker rm -f ${name} >/dev/null 2>&1 || true`;

export interface ExtensionCredentials {
  readonly password: string;
  /** Present for extensions with permissions: the bearer token for the API. */
  readonly apiToken?: string;
}

export function extensionRecords(
  model: StackModel,
  credentials: Readonly<Record<string, ExtensionCredentials>>,
): ExtensionRecord[] {
  return model.extensions.map((e) => {
    const c = credentials[e.id];
    if (!c) throw new Error(`no credentials generated for extension ${e.id}`);
    return {
      id: e.id,
      password: c.password,
      displayName: e.displayName,
      ...(e.outboundCallerId ? { outboundCallerId: e.outboundCallerId } : {}),
      context: "default",
      permissions: e.permissions,
      ...(c.apiToken ? { apiTokenSha256: sha256(c.apiToken) } : {}),
    };
  });
}

/**
 * How often the deploy's PUT is repeated while the API answers 503 (a change stored but not yet in
 * effect: FreeSWITCH's user cache not flushed, e.g. ESL still connecting after the API restarted),
 * each after the API's Retry-After (5 s): about a minute, then the step fails with the API's message.
 */
export const API_PUT_RETRIES = 12;

/** PUTs a JSON set read from stdin to the config API, authenticated with the admin token on the host. */
export function apiPutCommand(path: string): string {
  return [
    "set -euo pipefail",
    // The token goes in a header file (process substitution), never on curl's command line.
    // --fail-with-body: a refused PUT fails the step and shows why; --retry repeats a 503 (the set
    // is declarative, so a repeat is safe), and curl keeps stdin's body for the repeat.
    `curl -sS --fail-with-body --retry ${API_PUT_RETRIES} --retry-max-time 120 -X PUT -H 'Content-Type: application/json' -H @<(printf 'Authorization: Bearer %s\\n' "$(cat ${HOST_PATHS.apiSecrets}/${API_SECRET_FILES.adminToken})") --data-binary @- http://127.0.0.1:${CONFIG_API_PORT}${path}`,
  ].join("\n");
}

/**
 * What `pulumi destroy` runs last on a machine you bring (host.provider existing): removes what
 * the stack put there: its containers, the images it built, everything under HOST_ROOT, and the
 * given files outside it (fail2ban jail, ACME units). Left in place: the bootstrap's packages, UFW
 * with its last rules, the sshd and fail2ban sshd hardening, and root's authorized_keys (removing
 * them could lock the owner out).
 */
export function hostCleanupCommand(filesOutsideRoot: readonly string[]): string {
  return [
    "set -uo pipefail",
    `docker rm -f ${API_CONTAINER} ${FREESWITCH_CONTAINER} >/dev/null 2>&1`,
    `docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^(${API_IMAGE_REPO}|${FREESWITCH_IMAGE_REPO}):' | xargs -r docker rmi >/dev/null`,
    `systemctl disable --now ${ACME_TIMER_UNIT} >/dev/null 2>&1`,
    `rm -rf ${HOST_ROOT} ${HOST_ID_FILE} ${filesOutsideRoot.join(" ")}`,
    "systemctl daemon-reload",
    "if systemctl is-active --quiet fail2ban; then fail2ban-client reload >/dev/null; fi",
    "echo removed",
  ].join("\n");
}
