/**
 * The server's user data: a small, stable bootstrap. Hetzner replaces a server whose user data
 * changes, so nothing that evolves (firewall rules, FreeSWITCH files, fail2ban jails) is in here:
 * those are pushed over SSH afterwards. This depends on nothing in the stack config on purpose.
 */

export const HOST_ROOT = "/srv/telephony";

export function renderCloudInit(): string {
  return [
    "#cloud-config",
    "# Bootstrap only; everything else is pushed over SSH so a config change never replaces the server.",
    "package_update: true",
    "packages:",
    "  - docker.io",
    "  - curl",
    "  - ufw",
    "  - fail2ban",
    "write_files:",
    "  - path: /etc/ssh/sshd_config.d/50-telephony.conf",
    "    content: |",
    "      PasswordAuthentication no",
    "      PermitRootLogin prohibit-password",
    "runcmd:",
    "  - systemctl enable --now docker",
    "  - systemctl enable fail2ban",
    "  - systemctl reload ssh",
    `  - install -d -m 0755 ${HOST_ROOT}`,
    "",
  ].join("\n");
}
