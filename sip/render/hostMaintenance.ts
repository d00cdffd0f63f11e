/**
 * Host upkeep pushed with the other files (not in the bootstrap, so servers that already run get
 * it too): Docker's container logs are rotated, and Debian's security updates install themselves.
 */

/** Per container: at most LOG_MAX_FILES files of LOG_MAX_SIZE each (FreeSWITCH logs every registration). */
export const DOCKER_LOG_MAX_SIZE = "20m";
export const DOCKER_LOG_MAX_FILES = 5;

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
  return [
    "// Rendered by the stack: refresh package lists and install security updates daily.",
    'APT::Periodic::Update-Package-Lists "1";',
    'APT::Periodic::Unattended-Upgrade "1";',
    "",
  ].join("\n");
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
