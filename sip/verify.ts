/**
 * Post-deploy verification: a script run on the host after an update. It polls FreeSWITCH until
 * every profile is RUNNING, every active REGISTER trunk is REGED and every IP-authenticated trunk
 * answers its OPTIONS ping, or fails the update with a message naming what is not up.
 *
 * IP-authenticated trunks never register, so their registration state is always NOREG; the
 * gateway's ping status is their sign of life. `sofia status` does not print it, so the script
 * reads `sofia status gateway <name>` for them: `Status UP` with a ping count of at least one
 * (`PingState min/count/max`) means the provider has answered; a gateway that has not answered
 * yet is UP with count 0 (Sofia starts IP-auth gateways UP), one that stopped answering is DOWN.
 */
import type { StackModel } from "./model";
import { FREESWITCH_CONTAINER, HA_PATHS } from "./hostLayout";
import { readRoleCommand } from "./standby";

export interface StatusExpectation {
  /** As `sofia status` prints it: the profile name, or the gateway name (possibly "profile::gateway"). */
  readonly name: string;
  /**
   * profile/gateway: a row of `sofia status`; ping: `sofia status gateway <name>`; absent (standby
   * pair, a host that is not active): the gateway must have no row in `sofia status` at all.
   */
  readonly type: "profile" | "gateway" | "ping" | "absent";
  /** States (first word of the State column, or of the Status line for ping) that count as up. */
  readonly accept: readonly string[];
  /** Why, for the failure message. */
  readonly because: string;
}

export function statusExpectations(model: StackModel): StatusExpectation[] {
  return [
    ...model.profiles.map((p) => ({
      name: p.name,
      type: "profile" as const,
      accept: ["RUNNING"],
      because: "profile must be running",
    })),
    ...model.trunks
      .filter((t) => t.active)
      .map((t) =>
        t.register
          ? {
              name: t.name,
              type: "gateway" as const,
              accept: ["REGED"],
              because: `REGISTER trunk on ${t.profile} must register`,
            }
          : {
              name: t.name,
              type: "ping" as const,
              accept: ["UP"],
              because: `IP-authenticated trunk: the provider must answer OPTIONS pings (every ${t.pingSeconds} s)`,
            },
      ),
  ];
}

export const FS_CLI = `docker exec ${FREESWITCH_CONTAINER} fs_cli -x`;

/**
 * An awk program (for \`awk -F'\\t'\`) that reads \`sofia status\` and prints one line per profile and
 * gateway row: "<profile|gateway>\\t<name>\\t<first word of the state>", the gateway's name without
 * its "profile::" prefix. The verification and the standby pair's health check both read it so.
 */
export const SOFIA_STATUS_ROWS = `NF >= 4 {
      for (i = 1; i <= 4; i++) gsub(/^[ \\t]+|[ \\t]+$/, "", $i)
      key = $1; sub(/^.*::/, "", key); split($4, st, " ")
      if ($2 == "profile" || $2 == "gateway") printf "%s\\t%s\\t%s\\n", $2, key, st[1]
    }`;

/**
 * What a host of the standby pair that is not active must show: every profile RUNNING (it takes
 * over within seconds) and no trunk's gateway at all (only the active host registers and pings;
 * a stepped-down host's gateways are stopped).
 */
export function standbyExpectations(model: StackModel): StatusExpectation[] {
  return [
    ...statusExpectations(model).filter((e) => e.type === "profile"),
    ...model.trunks
      .filter((t) => t.active)
      .map((t) => ({
        name: t.name,
        type: "absent" as const,
        accept: ["stopped"],
        because: "only the active host of the standby pair runs the trunks' gateways",
      })),
  ];
}

const expectationRows = (expectations: readonly StatusExpectation[]) =>
  expectations.map((e) => `${e.type}\t${e.name}\t${e.accept.join("|")}\t${e.because}`).join("\n");

/** Where the role-aware verification reads this host's role (tests point them at a temporary directory). */
export type RolePaths = Readonly<Record<"enabled" | "state", string>>;

/**
 * The verification script; `timeoutSeconds` bounds the wait. `fsCli` runs one FreeSWITCH API
 * command given as its last argument (tests put a stand-in there).
 *
 * With standby the script reads the host's role on every round: a host that is not enabled for
 * election yet, or whose role file says standby or fault (or is not written yet), must show
 * standbyExpectations; the active host the same as a single host. Without standby the script is
 * the single host's, unchanged.
 */
export function renderVerifyScript(model: StackModel, fsCli = FS_CLI, rolePaths: RolePaths = HA_PATHS): string {
  const expectations = statusExpectations(model);
  const rows = expectationRows(expectations);
  // Gateway names are restricted to [a-z0-9-] (schema), so they are safe in a shell word.
  const pinged = expectations.filter((e) => e.type === "ping").map((e) => e.name);
  const pair = model.standby !== undefined;
  const expectText = pair
    ? `expect_active=$(cat <<'EXPECT'
${rows}
EXPECT
)
expect_standby=$(cat <<'EXPECT'
${expectationRows(standbyExpectations(model))}
EXPECT
)
# The standby pair: this host's role (active, standby or fault) as keepalived's notify script last
# wrote it; standby while the deploy has not enabled this host for election or nothing is written yet.
ha_role() {
  [ -e ${rolePaths.enabled} ] || { echo standby; return; }
  role=$(${readRoleCommand(rolePaths.state)})
  echo "\${role:-standby}"
}`
    : `expect=$(cat <<'EXPECT'
${rows}
EXPECT
)`;
  const absentCheck = pair
    ? `
        if (type[i] == "absent") { s = seen["gateway/" name[i]]; if (s != "") printf "  gateway %s: %s, expected %s (%s)\\n", name[i], s, ok[i], why[i]; continue }`
    : "";
  const roundStart = pair
    ? `
  role=$(ha_role)
  if [ "$role" = active ]; then expect=$expect_active; else expect=$expect_standby; fi`
    : "";
  const healthy = pair
    ? `if [ "$role" = active ]; then echo "verify: active host of the standby pair: all profiles running, all trunks up"; else echo "verify: $role host of the standby pair: all profiles running, no trunk gateway (they run on the active host)"; fi; exit 0`
    : `echo "verify: all profiles running, all trunks up"; exit 0`;
  const roleNote = pair ? ` (this host's role in the standby pair: $role)` : "";
  return `#!/usr/bin/env bash
# Rendered by the stack: verifies FreeSWITCH after an update (see sip/verify.ts).
set -uo pipefail
deadline=$(( $(date +%s) + \${VERIFY_TIMEOUT:-${model.verify.timeoutSeconds}} ))
${expectText}
fs_cli() { ${fsCli} "$1" 2>&1 || true; }
# One line per fact: "<type>\\t<name>\\t<state>", from sofia status and each pinged gateway.
observe() {
  fs_cli 'sofia status' | awk -F'\\t' '${SOFIA_STATUS_ROWS}'
  for gw in ${pinged.join(" ")}; do
    fs_cli "sofia status gateway $gw" | awk -v gw="$gw" '
      /^Status[ \\t]/ { status = $2 }
      /^PingState[ \\t]/ { split($2, p, "/"); count = p[2] + 0 }
      END { if (status == "UP" && count < 1) status = "UP-NEVER-ANSWERED"; if (status != "") printf "ping\\t%s\\t%s\\n", gw, status }'
  done
}
# Prints one line per expectation that is not met; nothing when all are.
unmet() {
  awk -F'\\t' -v expect="$expect" '
    BEGIN { n = split(expect, rows, "\\n"); for (i = 1; i <= n; i++) { split(rows[i], f, "\\t"); type[i] = f[1]; name[i] = f[2]; ok[i] = f[3]; why[i] = f[4] } }
    { seen[$1 "/" $2] = $3 }
    END {
      for (i = 1; i <= n; i++) {${absentCheck}
        s = seen[type[i] "/" name[i]]
        label = (type[i] == "ping" ? "gateway" : type[i])
        if (s == "" || s !~ ("^(" ok[i] ")$")) printf "  %s %s: %s, expected %s (%s)\\n", label, name[i], (s == "" ? "missing" : s), ok[i], why[i]
      }
    }'
}
while :; do${roundStart}
  problems=$(observe | unmet)
  if [ -z "$problems" ]; then ${healthy}; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "verify: FreeSWITCH is not healthy after the update${roleNote}:" >&2
    printf '%s\\n' "$problems" >&2
    echo "verify: check 'sofia status' on the host; for REGED failures check the trunk's credentials, realm and outbound proxy; for a DOWN or never-answered trunk, whether the provider answers OPTIONS from this server's address" >&2
    exit 1
  fi
  sleep "\${VERIFY_INTERVAL:-3}"
done
`;
}
