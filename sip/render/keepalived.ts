/**
 * The standby pair's files (sip/standby.ts): keepalived's configuration, the scripts it runs (the
 * health check and the notify script that moves the floating IPs), this host's facts for them,
 * and the sysctl that lets FreeSWITCH bind addresses the host does not hold. Plain text, no XML.
 *
 * keepalived needs interface names, which differ between server types (ens10, enp7s0, eth1 for
 * the private network): keepalived.conf names them through two keepalived parameters that the
 * keepalived reload class writes on the host (HA_PATHS.interfaces), read from the addresses the
 * host really has (`ip -o -4 addr show to <private IPv4>` and the default route).
 */
import { FREESWITCH_CONTAINER, HA_PATHS } from "../hostLayout";
import type { StackModel } from "../model";
import type { HostAddresses } from "../renderedFile";
import { peerOf, standbyPlan, type StandbyHostFacts, type StandbyHostKey, type StandbyPlan } from "../standby";
import { SOFIA_STATUS_ROWS } from "../verify";
import { PRIVATE_INTERFACE_PARAM, PUBLIC_INTERFACE_PARAM } from "../haInterfaces";

/** VRRP priorities: equal would do (nopreempt, the deploy enables the primary first); distinct ones make a tie impossible. */
export const HA_PRIORITY: Readonly<Record<StandbyHostKey, number>> = { primary: 150, standby: 100 };

/** The notify script's roles, as keepalived calls it: `notify.sh <role> <reason>`. */
export const NOTIFY_CALLS = {
  notify_master: "active MASTER",
  notify_backup: "standby BACKUP",
  notify_fault: "fault FAULT",
  notify_stop: "standby STOP",
} as const;

/** The script paths the renderers write into the files; tests render with a temporary directory's. */
export type HaScriptPaths = Readonly<
  Record<
    "token" | "hostEnv" | "enabled" | "stateDir" | "state" | "notifyLock" | "notify" | "check" | "interfaces",
    string
  >
>;

function requirePlan(model: Pick<StackModel, "standby">): StandbyPlan {
  const plan = standbyPlan(model);
  if (!plan) throw new Error("the standby files are rendered only with standby.enabled");
  return plan;
}

/**
 * keepalived.conf for one host of the pair. Both hosts start BACKUP with nopreempt: the first to
 * pass its track script (the deploy enables the primary first) becomes MASTER and keeps the
 * addresses until it fails, even when the other host comes back. `addresses` are the floating ones.
 */
export function renderKeepalivedConf(
  model: Pick<StackModel, "standby">,
  addresses: HostAddresses,
  host: StandbyHostKey,
  paths: HaScriptPaths = HA_PATHS,
): string {
  const plan = requirePlan(model);
  const notify = Object.entries(NOTIFY_CALLS).map(([key, args]) => `    ${key} "${paths.notify} ${args}"`);
  return [
    `# keepalived for the standby pair, host ${host}: rendered by the stack, do not edit on the host.`,
    "# VRRP adverts go unicast over the private network; the floating addresses are added to the",
    "# public interface on MASTER and removed on leaving it. The notify script moves them at Hetzner.",
    `# The interface names come from ${paths.interfaces}, written on this host by the deploy.`,
    `include ${paths.interfaces}`,
    "",
    "global_defs {",
    `    router_id telephony-${host}`,
    "    enable_script_security",
    "    script_user root",
    "}",
    "",
    "# Fails unless this host is enabled for election, FreeSWITCH answers and every profile is RUNNING.",
    "vrrp_script telephony_check {",
    `    script "${paths.check}"`,
    "    interval 2",
    "    timeout 3",
    "    fall 2",
    "    rise 2",
    "}",
    "",
    "vrrp_instance telephony {",
    "    state BACKUP",
    "    nopreempt",
    `    interface \${${PRIVATE_INTERFACE_PARAM}}`,
    `    virtual_router_id ${plan.virtualRouterId}`,
    `    priority ${HA_PRIORITY[host]}`,
    "    advert_int 1",
    `    unicast_src_ip ${plan.privateIpv4[host]}`,
    "    unicast_peer {",
    `        ${plan.privateIpv4[peerOf(host)]}`,
    "    }",
    "    track_script {",
    "        telephony_check",
    "    }",
    // The IPv4 one is the instance's VIP (keepalived 2.2.7's config test fails an instance without
    // one: "No VIP specified"); the IPv6 one cannot be in an IPv4 instance's adverts, so it is excluded.
    "    # Added on the public interface while MASTER, removed on leaving it.",
    "    virtual_ipaddress {",
    `        ${addresses.ipv4}/32 dev \${${PUBLIC_INTERFACE_PARAM}}`,
    "    }",
    "    # Not in the adverts (an IPv4 instance); the hosts answer on the first address of the /64.",
    "    virtual_ipaddress_excluded {",
    `        ${addresses.ipv6}/64 dev \${${PUBLIC_INTERFACE_PARAM}}`,
    "    }",
    ...notify,
    "}",
    "",
  ].join("\n");
}

/** A shell word that reads back as `value`. */
const shellWord = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** This host's facts for notify.sh, as shell assignments. */
export function renderHostEnv(
  model: Pick<StackModel, "standby">,
  host: StandbyHostFacts,
  addresses: HostAddresses,
): string {
  const plan = requirePlan(model);
  return [
    `# The standby pair's host ${host.key}: read by notify.sh; rendered by the stack.`,
    `HA_HOST=${shellWord(host.key)}`,
    `HA_SERVER_ID=${shellWord(host.serverId)}`,
    `HA_FLOATING_IPV4_ID=${shellWord(host.floatingIpv4Id)}`,
    `HA_FLOATING_IPV6_ID=${shellWord(host.floatingIpv6Id)}`,
    `HA_FLOATING_IPV4=${shellWord(addresses.ipv4)}`,
    `HA_FLOATING_IPV6=${shellWord(addresses.ipv6)}`,
    `HA_API=${shellWord(plan.hetznerApi)}`,
    "",
  ].join("\n");
}

/** Lets FreeSWITCH on the host that does not hold the floating addresses start bound to them. */
export function renderNonlocalBindSysctl(): string {
  return [
    "# The standby pair: Sofia profiles bind the floating addresses, which only the active host holds.",
    "net.ipv4.ip_nonlocal_bind = 1",
    "net.ipv6.ip_nonlocal_bind = 1",
    "",
  ].join("\n");
}

/**
 * notify.sh: keepalived runs it on every transition (`notify.sh <active|standby|fault> <reason>`).
 * On active it assigns both floating IPs to this server through the Hetzner API, retrying until
 * the API accepts (HTTP 201, an action that is not `error`) or HA_ASSIGN_SECONDS (60) pass; then,
 * on every transition, it writes role.json (HaState) atomically for the config API to read.
 *
 * The token never appears in a command line, a trace or a log: it is read with a builtin and
 * handed to curl as a config file on stdin (`--config -`), and the script never runs with `set -x`.
 */
export function renderNotifyScript(paths: HaScriptPaths = HA_PATHS): string {
  return `#!/usr/bin/env bash
# keepalived's notify script for the standby pair: rendered by the stack, do not edit on the host.
# Usage: notify.sh <active|standby|fault> <reason>. Never traced: it handles the Hetzner token.
set -uo pipefail
role=\${1:-}
reason=\${2:-}
case "$role" in active|standby|fault) ;; *) echo "usage: notify.sh <active|standby|fault> <reason>" >&2; exit 2 ;; esac
# shellcheck source=/dev/null
. ${paths.hostEnv}
log() { logger -t telephony-ha -- "$*" 2>/dev/null || true; echo "$*" >&2; }
# keepalived may start the next transition's script while this one still retries: one at a time, in order.
exec 9>>${paths.notifyLock}
flock 9

# Assigns floating IP $1 (its ID; $2 names it) to this server; true once the API accepted it.
assign() {
  local id=$1 what=$2 deadline answer code status token
  deadline=$(( $(date +%s) + \${HA_ASSIGN_SECONDS:-60} ))
  while :; do
    token=$(<${paths.token})
    answer=$(printf 'header = "Authorization: Bearer %s"\\n' "$token" |
      curl --config - -sS -m 10 -o - -w '\\n%{http_code}' -X POST \\
        -H 'Content-Type: application/json' \\
        --data "{\\"server\\": $HA_SERVER_ID}" \\
        "$HA_API/floating_ips/$id/actions/assign" 2>&1)
    code=\${answer##*$'\\n'}
    status=$(printf '%s' "$answer" | tr -d '\\n' | grep -o '"status" *: *"[a-z]*"' | head -n 1 | sed 's/.*"\\([a-z]*\\)"$/\\1/')
    if [ "$code" = 201 ] && [ "$status" != error ]; then
      log "floating $what (ID $id) assigned to server $HA_SERVER_ID ($HA_HOST): action \${status:-accepted}"
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "floating $what (ID $id) NOT assigned to server $HA_SERVER_ID ($HA_HOST): HTTP \${code:-none}, action \${status:-none}"
      return 1
    fi
    log "floating $what (ID $id): HTTP \${code:-none}, action \${status:-none}; trying again in 2 s"
    sleep "\${HA_ASSIGN_INTERVAL:-2}"
  done
}

# role.json for the config API: written whole to a temporary file, then renamed over the old one.
write_state() {
  local since tmp text
  since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  text=$(printf '%s' "$1" | sed 's/[\\\\"]/\\\\&/g' | tr -d '\\000-\\037')
  mkdir -p ${paths.stateDir} && chmod 0755 ${paths.stateDir}
  tmp=$(mktemp ${paths.stateDir}/.role.XXXXXX) || return 1
  printf '{"role":"%s","since":"%s","reason":"%s","host":"%s"}\\n' "$role" "$since" "$text" "$HA_HOST" > "$tmp" &&
    chmod 0644 "$tmp" && mv -f "$tmp" ${paths.state}
}

# Only the host that holds the floating addresses sends from them. A host stepping down stops its
# gateways, and Sofia un-REGISTERs each one from the floating IPv6 with the same contact the new
# active host registers: were that to reach the provider after the new REGISTER, it would remove
# the new host's binding. So a host that is not active drops whatever it would send from them.
speak_from_floating() {
  local allow=$1 cmd addr
  for pair in "iptables $HA_FLOATING_IPV4" "ip6tables $HA_FLOATING_IPV6"; do
    cmd=\${pair%% *}; addr=\${pair#* }
    if [ "$allow" = yes ]; then
      while $cmd -w -D OUTPUT -s "$addr" -j DROP 2>/dev/null; do :; done
    else
      $cmd -w -C OUTPUT -s "$addr" -j DROP 2>/dev/null || $cmd -w -I OUTPUT 1 -s "$addr" -j DROP ||
        log "could not stop sending from $addr"
    fi
  done
}

log "host $HA_HOST becomes $role ($reason)"
rc=0
if [ "$role" = active ]; then
  speak_from_floating yes
else
  speak_from_floating no
fi
if [ "$role" = active ]; then
  assign "$HA_FLOATING_IPV4_ID" IPv4 || { rc=1; reason="$reason; floating IPv4 not assigned"; }
  assign "$HA_FLOATING_IPV6_ID" IPv6 || { rc=1; reason="$reason; floating IPv6 not assigned"; }
fi
write_state "$reason" || { log "could not write ${paths.state}"; rc=1; }
exit $rc
`;
}

/** fs_cli bounded in time: a FreeSWITCH that hangs must fail the check, not stall keepalived. */
export const CHECK_FS_CLI = `timeout 2 docker exec ${FREESWITCH_CONTAINER} fs_cli -x`;

/**
 * check.sh, keepalived's track script: exits 0 only when this host may hold the addresses: the
 * deploy has enabled it (HA_PATHS.enabled), FreeSWITCH answers and every profile is RUNNING.
 * `fsCli` runs one FreeSWITCH API command given as its last argument (tests put a stand-in there).
 */
export function renderCheckScript(
  model: Pick<StackModel, "profiles">,
  fsCli = CHECK_FS_CLI,
  paths: HaScriptPaths = HA_PATHS,
): string {
  const profiles = model.profiles.map((p) => p.name);
  return `#!/usr/bin/env bash
# keepalived's track script for the standby pair: rendered by the stack, do not edit on the host.
set -uo pipefail
[ -e ${paths.enabled} ] || { echo "not enabled for election (${paths.enabled} missing)" >&2; exit 1; }
status=$(${fsCli} 'sofia status' 2>&1) || { echo "FreeSWITCH does not answer" >&2; exit 1; }
running=$(printf '%s\\n' "$status" | awk -F'\\t' '${SOFIA_STATUS_ROWS}' | awk -F'\\t' '$1 == "profile" && $3 == "RUNNING" { print $2 }')
for profile in ${profiles.join(" ")}; do
  printf '%s\\n' "$running" | grep -qx -- "$profile" || { echo "profile $profile is not RUNNING" >&2; exit 1; }
done
exit 0
`;
}
