/** Debian packages the host steps install where missing, rather than in the bootstrap, so running servers get them too. */

/** The ACME client of tls.mode acme: Debian's lego, installed by the acme group's reload (reload.ts). */
export const ACME_CLIENT_PACKAGE = "lego";

/** The standby pair's VRRP daemon: Debian's keepalived, installed by the keepalived group's reload (reload.ts). */
export const KEEPALIVED_PACKAGE = "keepalived";

/** Installs a Debian package only where it is missing (a host that has it runs no apt at all). */
export function installIfMissing(pkg: string): string {
  return `(dpkg-query -W -f='\${Status}' ${pkg} 2>/dev/null | grep -q 'ok installed' || DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q ${pkg} >/dev/null)`;
}
