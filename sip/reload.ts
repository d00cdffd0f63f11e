/**
 * Reload classes: every pushed file belongs to exactly one, and a change to it runs only that
 * class's action. Ordered from least to most disruptive, so a preview tells the reviewer what a
 * change interrupts.
 */

import { drainCommand, drainNote } from "./drain";
import { ACME_PATHS, API_CONTAINER, FREESWITCH_CONTAINER, HA_PATHS } from "./hostLayout";
import { ACME_CLIENT_PACKAGE, KEEPALIVED_PACKAGE, installIfMissing } from "./packages";
import { interfacesCommand } from "./haInterfaces";

export type ReloadClass =
  /** FreeSWITCH ACLs: `reloadacl`, no call is touched. */
  | { readonly kind: "acl" }
  /** Dialplan: `reloadxml`, affects new calls only. */
  | { readonly kind: "dialplan" }
  /**
   * A Sofia profile's own parameters: after the drain (up to drainSeconds for calls to end),
   * `sofia profile <name> restart` drops that profile's remaining calls and registrations.
   */
  | { readonly kind: "profile"; readonly profile: string; readonly drainSeconds: number }
  /**
   * Core settings (RTP range, modules, xml_curl, event socket, secrets): after the drain, the
   * FreeSWITCH container restarts, dropping every call still up. `takeover` (standby only): the
   * restart fails the active host's health check, so the other host takes the addresses.
   */
  | { readonly kind: "freeswitch-restart"; readonly drainSeconds: number; readonly takeover?: true }
  /** The config API's own settings: its container restarts; calls are untouched. */
  | { readonly kind: "api-restart" }
  /** Host firewall (UFW): rules are re-applied; established flows survive. */
  | { readonly kind: "host-firewall" }
  /** fail2ban's jail and filter: `fail2ban-client reload`. */
  | { readonly kind: "fail2ban" }
  /**
   * Certificates: `reloadcert` on a FreeSWITCH that has it (see CertificateLoad); elsewhere Sofia
   * reads them only when a profile starts, so the TLS profiles restart (after the drain).
   */
  | {
      readonly kind: "tls";
      readonly profiles: readonly string[];
      readonly drainSeconds: number;
      readonly load: CertificateLoad;
    }
  /** The ACME renewal job (script, timer): systemd reloads it; nothing else is touched. */
  | { readonly kind: "acme" }
  /** Host upkeep (Docker log limits, security updates): dockerd re-reads its config; containers keep running. */
  | { readonly kind: "host-maintenance" }
  /**
   * The standby pair's files (keepalived.conf, its health check and notify script, the host's
   * facts, the Hetzner token, the nonlocal-bind sysctl): keepalived installed where missing, the
   * sysctl applied, the interface names read on the host, keepalived enabled and reloaded.
   * `privateIpv4`: this host's address on the private network, which names the VRRP interface.
   */
  | { readonly kind: "keepalived"; readonly privateIpv4: string };

/**
 * How a new certificate gets into Sofia. "reloadcert": the packaged image is FreeSWITCH 1.11.2, so
 * `reloadcert` is known to work. "by-reported-version": an image of the operator's (freeswitch.image)
 * may be 1.10 or 1.11, so the host asks the running FreeSWITCH (`version short`) and uses
 * `reloadcert` from RELOADCERT_SINCE on, the drained profile restart before it.
 */
export type CertificateLoad = "reloadcert" | "by-reported-version";

/**
 * The first release whose `reloadcert` reaches Sofia for certain. 1.11.1 added the command, but
 * Sofia acts on it only when built against sofia-sip 1.13.18 (nua_reload_tls, HAVE_NUA_RELOAD_TLS),
 * and 1.11.1 still builds against 1.13.17, where `reloadcert` answers +OK and Sofia does nothing.
 * 1.11.2 requires 1.13.18.
 */
export const RELOADCERT_SINCE = "1.11.2";

export function reloadClassName(c: ReloadClass): string {
  return c.kind === "profile" ? `profile:${c.profile}` : c.kind;
}

/** What the class disrupts, in words a reviewer reads in the preview and the summary. */
export function disruption(c: ReloadClass): string {
  switch (c.kind) {
    case "acl":
      return "none (reloadacl)";
    case "dialplan":
      return "none; new calls use the new dialplan (reloadxml)";
    case "profile":
      return `${drainNote(c.drainSeconds)}, then calls still up and registrations on profile ${c.profile} drop (sofia profile ${c.profile} restart)`;
    case "freeswitch-restart":
      return `${drainNote(c.drainSeconds)}, then every call still up drops (FreeSWITCH container restart)${c.takeover ? `; ${TAKEOVER_NOTE}` : ""}`;
    case "api-restart":
      return "none for calls; the config API restarts";
    case "host-firewall":
      return "none (UFW rules re-applied)";
    case "fail2ban":
      return "none (fail2ban reload)";
    case "tls":
      return c.load === "reloadcert"
        ? RELOADCERT_NOTE
        : `decided on the host by the version the image reports: from FreeSWITCH ${RELOADCERT_SINCE} none (reloadcert); before it, ${drainedTlsRestartNote(c.profiles, c.drainSeconds)}`;
    case "acme":
      return "none (lego installed if missing; renewal timer reloaded)";
    case "host-maintenance":
      return "none (dockerd reloads its config; containers keep running)";
    case "keepalived":
      return "none for calls: keepalived reloads its configuration and the floating addresses stay where they are (keepalived installed and started where missing; nonlocal bind applied)";
  }
}

/** What a FreeSWITCH restart does to the standby pair, in the words of the preview and the summary. */
export const TAKEOVER_NOTE =
  "with standby, restarting the active host fails its health check, so the other host takes the floating addresses (a takeover; phones re-register there within 2 minutes) and keeps them after this host is back";

/** What `reloadcert` does, in the words of the preview, the summary and the renewal's log. */
export const RELOADCERT_NOTE =
  "none: reloadcert loads the certificate into the running TLS/WSS profiles; new TLS connections get it, connections up keep the old one until they reconnect; no call or registration drops";

function drainedTlsRestartNote(profiles: readonly string[], drainSeconds: number): string {
  return `${drainNote(drainSeconds)}, then calls still up and registrations on ${profiles.join(", ")} drop (profile restart to load the certificate)`;
}

/** The renewal timer's unit name, as systemctl takes it. */
export const ACME_TIMER_UNIT = ACME_PATHS.timer.slice(ACME_PATHS.timer.lastIndexOf("/") + 1);

const fsCli = (command: string) => `docker exec ${FREESWITCH_CONTAINER} fs_cli -x '${command}'`;

/**
 * Reads FreeSWITCH's replies to fs_cli in the rendered shell: the one place that knows their shape.
 * FreeSWITCH answers many failures without -ERR (and fs_cli exits 0 either way), so each reply is
 * matched against the success it must be, never just checked for "-ERR".
 */
export const FS_REPLY = {
  /** `reloadcert` (mod_commands, 1.11.1+): "+OK cert reload event sent"; 1.10 says "-ERR reloadcert Command not found!". */
  reloadcertAccepted: (reply: string) => `case "${reply}" in "+OK cert reload event sent"*) true ;; *) false ;; esac`,
  /**
   * `version short`: major.minor.micro, where a release build's micro carries its tag
   * ("1.10.12-release", as a real 1.10.12 answers); prints the numbers alone. Any other reply (no
   * FreeSWITCH, no answer, an error) gives "".
   */
  shortVersion: (reply: string) =>
    `{ printf '%s' "${reply}" | tr -d '[:space:]' | sed -n -E 's/^([0-9]+\\.[0-9]+\\.[0-9]+)([-~+][A-Za-z0-9.~+-]*)?$/\\1/p'; }`,
} as const;

/**
 * Loads the new certificate with `reloadcert`, or, when FreeSWITCH does not accept it, falls back to
 * the drained restart (a renewal must end with the certificate served); says which it did.
 */
function reloadcert(profiles: readonly string[], drainSeconds: number): string {
  return [
    `reply=$(${fsCli("reloadcert")} 2>&1) || true`,
    `if ${FS_REPLY.reloadcertAccepted("$reply")}; then`,
    `  echo "certificate loaded with reloadcert, no profile restarted: new TLS connections on ${profiles.join(", ")} get it, connections up keep the old one until they reconnect"`,
    "else",
    `  echo "reloadcert was not accepted (\${reply:-no reply}): restarting ${profiles.join(", ")} instead, drained" >&2`,
    ...drainedTlsRestart(profiles, drainSeconds)
      .split("\n")
      .map((l) => `  ${l}`),
    "fi",
  ].join("\n");
}

function drainedTlsRestart(profiles: readonly string[], drainSeconds: number): string {
  return [
    drained(drainSeconds, profiles.map(profileRestart).join(" && ")),
    `echo "TLS profiles ${profiles.join(", ")} restarted (drained) to load the certificate"`,
  ].join("\n");
}

/** Asks the running FreeSWITCH its version and loads the certificate the way that version can. */
function reloadByReportedVersion(profiles: readonly string[], drainSeconds: number): string {
  return [
    `reply=$(${fsCli("version short")} 2>&1) || true`,
    `fs_version=$(${FS_REPLY.shortVersion("$reply")})`,
    // sort -V -C: true when the list is already in version order, i.e. RELOADCERT_SINCE <= the reported version.
    `if [ -n "$fs_version" ] && printf '%s\\n' ${RELOADCERT_SINCE} "$fs_version" | sort -V -C; then`,
    `  echo "FreeSWITCH $fs_version has reloadcert (${RELOADCERT_SINCE} or later): no profile restart"`,
    ...reloadcert(profiles, drainSeconds)
      .split("\n")
      .map((l) => `  ${l}`),
    "else",
    `  echo "FreeSWITCH \${fs_version:-of unknown version} has no reloadcert that reaches Sofia (${RELOADCERT_SINCE} or later): restarting ${profiles.join(", ")}, drained"`,
    ...drainedTlsRestart(profiles, drainSeconds)
      .split("\n")
      .map((l) => `  ${l}`),
    "fi",
  ].join("\n");
}

/**
 * `sofia profile <p> restart`, asked again while Sofia refuses it: it will not restart a profile that
 * has been up for less than 10 s ("must be up for at least 10 seconds") and fs_cli still exits 0, so
 * a restart right after FreeSWITCH started (or after another restart) would silently not happen.
 * After 30 s of refusals it fails, so the deploy step or the renewal job says so.
 */
const profileRestart = (profile: string) =>
  `for try in $(seq 1 30); do out=$(${fsCli(`sofia profile ${profile} restart`)}); case "$out" in *"must be up for at least"*) sleep 1 ;; *) printf '%s\\n' "$out"; break ;; esac; ` +
  `[ "$try" -lt 30 ] || { echo "sofia profile ${profile} restart refused for 30 s: $out" >&2; false; }; done`;

/** The drain (sip/drain.ts) on its own lines, then the restart. */
const drained = (seconds: number, restart: string) => `${drainCommand(FREESWITCH_CONTAINER, seconds)}\n${restart}`;

/**
 * Runs `command` only while `container` runs (on the first deploy the containers start after
 * their files). A one-line command stays on the `if` line; a longer one (a drain, then the
 * restart) goes on lines of its own.
 */
export function ifContainerRunning(container: string, command: string): string {
  const running = `[ "$(docker inspect -f '{{.State.Running}}' ${container} 2>/dev/null)" = true ]`;
  if (!command.includes("\n")) return `if ${running}; then ${command}; fi`;
  return [`if ${running}; then`, ...command.split("\n").map((line) => `  ${line}`), "fi"].join("\n");
}

/**
 * Applies host upkeep's files (render/hostMaintenance.ts): installs unattended-upgrades where the
 * image lacks it, and makes dockerd re-read daemon.json (SIGHUP: live-restore applies at once; log
 * limits apply to containers created from then on, so the stack's containers are created after
 * this runs).
 */
function hostMaintenanceReloadCommand(): string {
  return [installIfMissing("unattended-upgrades"), "(systemctl reload docker || systemctl restart docker)"].join(
    " && ",
  );
}

/**
 * The shell command that applies a change of this class on the host. The disruptive ones
 * (profile, freeswitch-restart, tls) drain first: they wait up to drainSeconds for calls to end.
 */
export function reloadCommand(c: ReloadClass, paths: { ufwScript: string }): string {
  switch (c.kind) {
    case "acl":
      return fsCli("reloadacl");
    case "dialplan":
      return fsCli("reloadxml");
    case "profile":
      // reloadxml first so the restarted profile reads the new file.
      return drained(c.drainSeconds, `${fsCli("reloadxml")} && ${profileRestart(c.profile)}`);
    case "freeswitch-restart":
      return drained(c.drainSeconds, `docker restart ${FREESWITCH_CONTAINER}`);
    case "api-restart":
      return `docker restart ${API_CONTAINER}`;
    case "host-firewall":
      return `bash ${paths.ufwScript}`;
    case "fail2ban":
      return "fail2ban-client reload";
    case "tls":
      return c.load === "reloadcert"
        ? reloadcert(c.profiles, c.drainSeconds)
        : reloadByReportedVersion(c.profiles, c.drainSeconds);
    case "acme":
      // The renewal job runs Debian's lego: installed here where missing, before the timer (and the first issue) can need it.
      return `${installIfMissing(ACME_CLIENT_PACKAGE)} && systemctl daemon-reload && systemctl enable --now ${ACME_TIMER_UNIT}`;
    case "host-maintenance":
      return hostMaintenanceReloadCommand();
    case "keepalived":
      return keepalivedReloadCommand(c.privateIpv4);
  }
}

/**
 * Applies the standby pair's files: the interface names first (keepalived.conf includes them, and
 * Debian's package starts keepalived on install), then keepalived itself, the nonlocal-bind sysctl
 * (before FreeSWITCH binds the floating addresses), and a reload that keeps the VRRP state (a
 * keepalived that is not running yet is started).
 */
function keepalivedReloadCommand(privateIpv4: string): string {
  return [
    interfacesCommand(privateIpv4),
    installIfMissing(KEEPALIVED_PACKAGE),
    `sysctl -q -p ${HA_PATHS.sysctl}`,
    "systemctl enable -q keepalived",
    "systemctl reload-or-restart keepalived",
  ].join(" && ");
}
