/**
 * The standby pair's interface names, read on the host: keepalived.conf (render/keepalived.ts)
 * names the private and the public interface through two keepalived parameters, which the
 * keepalived reload class (reload.ts) defines in HA_PATHS.interfaces from the addresses the host
 * really has. Interface names differ between server types (ens10, enp7s0, eth1), so they are not
 * guessed. A leaf beside hostLayout: reload.ts and the renderer both read it.
 */
import { HA_PATHS } from "./hostLayout";

/** The keepalived parameters HA_PATHS.interfaces defines (see interfacesCommand). */
export const PRIVATE_INTERFACE_PARAM = "TELEPHONY_PRIVATE_INTERFACE";
export const PUBLIC_INTERFACE_PARAM = "TELEPHONY_PUBLIC_INTERFACE";

/**
 * Shell that writes HA_PATHS.interfaces from the addresses this host has: the interface holding
 * its private IPv4 (`privateIpv4`) and the one carrying the default route. Fails, naming the
 * address, when the private address is not configured (the private network is not attached yet).
 */
export function interfacesCommand(privateIpv4: string, paths: { readonly interfaces: string } = HA_PATHS): string {
  return [
    `private_if=$(ip -o -4 addr show to ${privateIpv4} | awk '{ print $2; exit }')`,
    `public_if=$(ip -o -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')`,
    `{ [ -n "$private_if" ] || { echo "no interface holds the private address ${privateIpv4} (standby.network): is the private network attached?" >&2; false; }; }`,
    `{ [ -n "$public_if" ] || { echo "no default route: cannot tell the public interface for the floating addresses" >&2; false; }; }`,
    `printf '$${PRIVATE_INTERFACE_PARAM}=%s\\n$${PUBLIC_INTERFACE_PARAM}=%s\\n' "$private_if" "$public_if" > ${paths.interfaces}`,
  ].join(" && ");
}
