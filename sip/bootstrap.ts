/**
 * The host bootstrap, in two forms built from the same facts: the Hetzner server's user data
 * (cloud-init, run once when the server is built) and a shell script run over SSH on a machine
 * the user brings (host.provider existing), which installs only what is missing and can run again.
 *
 * Hetzner replaces a server whose user data changes, so nothing that evolves (firewall rules,
 * FreeSWITCH files, fail2ban jails) is in here: those are pushed over SSH afterwards. This depends
 * on nothing in the stack config on purpose.
 */

import { HOST_ID_FILE, HOST_ROOT } from "./hostLayout";

/** Packages the deploy needs, each with the command that shows it is there (Docker may come from docker-ce). */
const BOOTSTRAP_PACKAGES: readonly { readonly name: string; readonly present: string }[] = [
  { name: "docker.io", present: "command -v docker" },
  { name: "curl", present: "command -v curl" },
  { name: "ufw", present: "command -v ufw" },
  { name: "fail2ban", present: "command -v fail2ban-client" },
  // fail2ban's systemd backend (below) reads the journal through it.
  { name: "python3-systemd", present: "python3 -c 'import systemd.journal'" },
];

const SSHD_DROP_IN = {
  path: "/etc/ssh/sshd_config.d/50-telephony.conf",
  lines: ["PasswordAuthentication no", "PermitRootLogin prohibit-password"],
};
/**
 * Debian 12 logs sshd to the journal only (no auth.log without rsyslog), so fail2ban's stock sshd
 * jail, which reads a log file, keeps fail2ban from starting at all. Read the journal instead.
 */
const FAIL2BAN_SSHD_DROP_IN = {
  path: "/etc/fail2ban/jail.d/50-telephony-sshd.conf",
  lines: ["[sshd]", "backend = systemd"],
};

export function renderCloudInit(): string {
  const writeFile = (f: { path: string; lines: readonly string[] }) => [
    `  - path: ${f.path}`,
    "    content: |",
    ...f.lines.map((l) => `      ${l}`),
  ];
  return [
    "#cloud-config",
    "# Bootstrap only; everything else is pushed over SSH so a config change never replaces the server.",
    "package_update: true",
    "packages:",
    ...BOOTSTRAP_PACKAGES.map((p) => `  - ${p.name}`),
    "write_files:",
    ...writeFile(SSHD_DROP_IN),
    ...writeFile(FAIL2BAN_SSHD_DROP_IN),
    "runcmd:",
    "  - systemctl enable --now docker",
    "  - systemctl enable fail2ban",
    "  - systemctl restart fail2ban",
    "  - systemctl reload ssh",
    `  - install -d -m 0755 ${HOST_ROOT}`,
    "",
  ].join("\n");
}

/**
 * The same bootstrap for a machine that already runs (Debian 12 or newer, as root): installs the
 * packages that are missing (none: no package mirror is contacted), writes the two drop-ins when
 * they differ and reloads what they configure, starts Docker and fail2ban. Progress goes to stderr;
 * stdout is only the host's ID, which the host steps re-run on: a random ID the first run writes
 * to HOST_ID_FILE, so a machine rebuilt at the same address has a new one. (Not /etc/machine-id:
 * systemd derives it from the hypervisor's UUID on some VMs, so reinstalls and clones share it.)
 */
export function renderBootstrapScript(): string {
  const ensureFile = (f: { path: string; lines: readonly string[] }, onChange: string) => {
    const content = f.lines.join("\\n");
    return [
      `if [ "$(cat ${f.path} 2>/dev/null)" != "$(printf '${content}')" ]; then`,
      `  install -d -m 0755 ${f.path.slice(0, f.path.lastIndexOf("/"))}`,
      `  printf '${content}\\n' > ${f.path}; echo "wrote ${f.path}" >&2; ${onChange}`,
      "fi",
    ];
  };
  return [
    "set -euo pipefail",
    ". /etc/os-release",
    'if [ "${ID:-}" != debian ] || [ "${VERSION_ID%%.*}" -lt 12 ] 2>/dev/null; then echo "this host runs ${PRETTY_NAME:-an unknown system}; the deploy needs Debian 12 or newer" >&2; exit 1; fi',
    "missing=''",
    ...BOOTSTRAP_PACKAGES.map((p) => `${p.present} >/dev/null 2>&1 || missing="$missing ${p.name}"`),
    'if [ -n "$missing" ]; then',
    '  echo "installing:$missing" >&2',
    "  export DEBIAN_FRONTEND=noninteractive",
    "  apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $missing >&2",
    "else",
    `  echo "already installed: ${BOOTSTRAP_PACKAGES.map((p) => p.name).join(" ")}" >&2`,
    "fi",
    "restart_fail2ban=0",
    ...ensureFile(SSHD_DROP_IN, "systemctl reload ssh"),
    ...ensureFile(FAIL2BAN_SSHD_DROP_IN, "restart_fail2ban=1"),
    "systemctl enable --now docker >&2",
    "systemctl enable fail2ban >&2",
    'if [ "$restart_fail2ban" = 1 ] || ! systemctl is-active --quiet fail2ban; then systemctl restart fail2ban; fi',
    `install -d -m 0755 ${HOST_ROOT}`,
    `if [ ! -s ${HOST_ID_FILE} ]; then install -d -m 0755 ${HOST_ID_FILE.slice(0, HOST_ID_FILE.lastIndexOf("/"))}; cat /proc/sys/kernel/random/uuid > ${HOST_ID_FILE}; fi`,
    `cat ${HOST_ID_FILE}`,
  ].join("\n");
}
