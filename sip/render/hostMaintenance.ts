/**
 * Host upkeep pushed with the other files (not in the bootstrap, so servers that already run get
 * it too): Docker's container logs are rotated, and Debian's security updates install themselves.
 */
import { installIfMissing } from "./packages";

/** Per container: at most LOG_MAX_FILES files of LOG_MAX_SIZE each (FreeSWITCH logs every registration). */
export const DOCKER_LOG_MAX_SIZE = "20m";
export const DOCKER_LOG_MAX_FILES = 5;

export const HOST_MAINTENANCE_PATHS = {
  dockerDaemon: "/etc/docker/daemon.json",
  autoUpgrades: "/etc/apt/apt.conf.d/20auto-upgrades",
  unattendedUpgrades: "/etc/apt/apt.conf.d/52telephony-unattended-upgrades",
} as const;

/**
 * dockerd's defaults for every container it creates: json-file logs (what `docker logs` reads)
 * capped in size. `live-restore` keeps the containers running while dockerd itself restarts
 * (a security update of docker.io), so an engine upgrade drops no call.
 */
export function renderDockerDaemonJson(): string {
  const config = {
    "live-restore": true,
    "log-driver": "json-file",
    "log-opts": { "max-file": String(DOCKER_LOG_MAX_FILES), "max-size": DOCKER_LOG_MAX_SIZE },
  };
  return JSON.stringify(config, null, 2) + "\n";
}

/** apt's daily timers: refresh the lists and run unattended-upgrade every day. */
export function renderAutoUpgrades(): string {
  return ["// Rendered by the stack: refresh package lists and install security updates daily.", 'APT::Periodic::Update-Package-Lists "1";', 'APT::Periodic::Unattended-Upgrade "1";', ""].join("\n");
}

/**
 * Only Debian's security archive. `#clear` drops the origins Debian's own 50unattended-upgrades
 * adds (point releases among them), which would otherwise be merged with this list; no automatic
 * reboot (a reboot drops every call: kernel updates wait for a planned one).
 */
export function renderUnattendedUpgrades(): string {
  return [
    "// Rendered by the stack: security updates only, never an automatic reboot.",
    "#clear Unattended-Upgrade::Origins-Pattern;",
    "Unattended-Upgrade::Origins-Pattern {",
    '  "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";',
    "};",
    'Unattended-Upgrade::Automatic-Reboot "false";',
    "",
  ].join("\n");
}

/**
 * Applies the files: installs unattended-upgrades where the image lacks it, and makes dockerd
 * re-read daemon.json (SIGHUP: live-restore applies at once; log limits apply to containers
 * created from then on, so the stack's containers are created after this runs).
 */
export function hostMaintenanceReloadCommand(): string {
  return [
    installIfMissing("unattended-upgrades"),
    "(systemctl reload docker || systemctl restart docker)",
  ].join(" && ");
}
