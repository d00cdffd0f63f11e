/**
 * Where the stack's things live on the host and what they are called there: the directory it owns,
 * the paths of the files and directories it writes, the containers' names, the ports its services
 * listen on, the paths inside the config API's container. Written once here; the renderers, the
 * deploy's shell text, the checks, the components and the config API all read them from here.
 * A leaf: it imports nothing, so anything may import it.
 */

/** Everything the stack puts on the host lives under this directory (removed whole on destroy). */
export const HOST_ROOT = "/srv/telephony";
/** host.provider existing: the machine's identity for the deploy (see renderBootstrapScript). */
export const HOST_ID_FILE = "/var/lib/telephony/host-id";

/** The stack's files and directories under HOST_ROOT. */
export const HOST_PATHS = {
  freeswitchConf: `${HOST_ROOT}/freeswitch/conf`,
  freeswitchLog: `${HOST_ROOT}/freeswitch/log`,
  /** FreeSWITCH's log file in freeswitchLog, which fail2ban's jail reads. */
  freeswitchLogFile: `${HOST_ROOT}/freeswitch/log/freeswitch.log`,
  /** The packaged FreeSWITCH image's build log (long: kept on the host, its end shown on failure). */
  freeswitchImageBuildLog: `${HOST_ROOT}/freeswitch/image-build.log`,
  fsCliConf: `${HOST_ROOT}/freeswitch/fs_cli.conf`,
  apiConfig: `${HOST_ROOT}/api/config.json`,
  apiSecrets: `${HOST_ROOT}/api/secrets`,
  apiData: `${HOST_ROOT}/api/data`,
  /** The config API's image context, copied to the host and built there. */
  apiImage: `${HOST_ROOT}/api/image`,
  ufwScript: `${HOST_ROOT}/host/ufw.sh`,
} as const;

/** FreeSWITCH's certificates (agent.pem, wss.pem, cafile.pem): its conf tree's tls directory. */
export const TLS_HOST_DIR = `${HOST_PATHS.freeswitchConf}/tls`;
/** tls.mode acme: the renewal job, its settings and lego's state. */
export const ACME_DIR = `${HOST_ROOT}/tls`;
export const ACME_PATHS = {
  script: `${ACME_DIR}/renew.sh`,
  env: `${ACME_DIR}/acme.env`,
  state: `${ACME_DIR}/acme`,
  dnsHook: `${ACME_DIR}/dns-hook.sh`,
  service: "/etc/systemd/system/telephony-acme.service",
  timer: "/etc/systemd/system/telephony-acme.timer",
} as const;

/** Host upkeep's files, outside HOST_ROOT: Docker's daemon settings and apt's update timers. */
export const HOST_MAINTENANCE_PATHS = {
  dockerDaemon: "/etc/docker/daemon.json",
  autoUpgrades: "/etc/apt/apt.conf.d/20auto-upgrades",
  unattendedUpgrades: "/etc/apt/apt.conf.d/52telephony-unattended-upgrades",
} as const;

/**
 * standby only: keepalived's configuration (where Debian's keepalived.service reads it), the scripts
 * it runs, the Hetzner token those use, the nonlocal-bind sysctl, and the state directory
 * keepalived's notify script writes and the config API reads (mounted read-only).
 */
export const HA_PATHS = {
  keepalivedConf: "/etc/keepalived/keepalived.conf",
  sysctl: "/etc/sysctl.d/60-telephony-nonlocal-bind.conf",
  dir: `${HOST_ROOT}/ha`,
  /** notify script: `notify.sh <active|standby|fault> <reason>`; assigns the floating IPs on active. */
  notify: `${HOST_ROOT}/ha/notify.sh`,
  /** track_script: exits 0 only when this host may serve (enabled, FreeSWITCH answers, profiles RUNNING). */
  check: `${HOST_ROOT}/ha/check.sh`,
  /** The Hetzner Cloud token (0600 root), read only by notify.sh. */
  token: `${HOST_ROOT}/ha/hcloud-token`,
  /** This host's facts for notify.sh (shell assignments): which host it is, its server ID, the floating IPs' IDs, the API. */
  hostEnv: `${HOST_ROOT}/ha/host.env`,
  /**
   * Written on the host by the keepalived reload (never pushed): keepalived parameters naming the
   * interfaces that hold this host's private IPv4 and its default route, which keepalived.conf
   * includes. Interface names differ between server types (ens10, enp7s0, eth1), so they are read
   * on the host rather than guessed.
   */
  interfaces: `${HOST_ROOT}/ha/interfaces.conf`,
  /** Serialises notify.sh runs: keepalived may start the next transition's script before the last one ends. */
  notifyLock: `${HOST_ROOT}/ha/notify.lock`,
  /** Present once the deploy has enabled this host for election (see components/standby). */
  enabled: `${HOST_ROOT}/ha/enabled`,
  /** What notify.sh writes, one JSON object: {"role":"active"|"standby"|"fault","since":ISO,"reason":text,"host":name}. */
  stateDir: `${HOST_ROOT}/ha/state`,
  state: `${HOST_ROOT}/ha/state/role.json`,
} as const;

/** Where the config API's container sees HA_PATHS.stateDir (read-only). */
export const API_HA_STATE = "/run/telephony-ha/role.json";

export const FREESWITCH_CONTAINER = "telephony-freeswitch";
export const API_CONTAINER = "telephony-config-api";

/**
 * Inside the config API's container: where the deploy mounts its settings file, its secrets
 * directory (read-only) and its data directory (the store).
 */
export const API_CONTAINER_PATHS = {
  config: "/etc/telephony-api/config.json",
  secretsDir: "/run/secrets",
  data: "/data",
  store: "/data/store.json",
} as const;

/** Ports that must never leave loopback: FreeSWITCH's event socket and the config API. */
export const ESL_PORT = 8021;
export const CONFIG_API_PORT = 8001;
export const SSH_PORT = 22;
/**
 * The config API's second listener, which serves only GET /metrics (Prometheus) on the host's
 * public addresses; the firewall admits it from host.adminSshRanges only, like SSH. 9282 is the
 * FreeSWITCH exporters' default port.
 */
export const METRICS_PORT = 9282;
/** SIP over TLS's well-known port (RFC 3261): TCP to it is TLS, whichever profile listens there. */
export const SIP_TLS_PORT = 5061;
