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
import { FREESWITCH_CONTAINER } from "./hostLayout";

export interface StatusExpectation {
  /** As `sofia status` prints it: the profile name, or the gateway name (possibly "profile::gateway"). */
  readonly name: string;
  /** profile/gateway: a row of `sofia status`; ping: `sofia status gateway <name>`. */
  readonly type: "profile" | "gateway" | "ping";
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
 * The verification script; `timeoutSeconds` bounds the wait. `fsCli` runs one FreeSWITCH API
 * command given as its last argument (tests put a stand-in there).
 */
export function renderVerifyScript(model: StackModel, fsCli = FS_CLI): string {
  const expectations = statusExpectations(model);
  const rows = expectations.map((e) => `${e.type}\t${e.name}\t${e.accept.join("|")}\t${e.because}`).join("\n");
  // Gateway names are restricted to [a-z0-9-] (schema), so they are safe in a shell word.
  const pinged = expectations.filter((e) => e.type === "ping").map((e) => e.name);
  return `#!/usr/bin/env bash
# Rendered by the stack: verifies FreeSWITCH after an update (see sip/verify.ts).
set -uo pipefail
deadline=$(( $(date +%s) + \${VERIFY_TIMEOUT:-${model.verify.timeoutSeconds}} ))
expect=$(cat <<'EXPECT'
${rows}
EXPECT
)
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
      for (i = 1; i <= n; i++) {
        s = seen[type[i] "/" name[i]]
        label = (type[i] == "ping" ? "gateway" : type[i])
        if (s == "" || s !~ ("^(" ok[i] ")$")) printf "  %s %s: %s, expected %s (%s)\\n", label, name[i], (s == "" ? "missing" : s), ok[i], why[i]
      }
    }'
}
while :; do
  problems=$(observe | unmet)
  if [ -z "$problems" ]; then echo "verify: all profiles running, all trunks up"; exit 0; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "verify: FreeSWITCH is not healthy after the update:" >&2
    printf '%s\\n' "$problems" >&2
    echo "verify: check 'sofia status' on the host; for REGED failures check the trunk's credentials, realm and outbound proxy; for a DOWN or never-answered trunk, whether the provider answers OPTIONS from this server's address" >&2
    exit 1
  fi
  sleep "\${VERIFY_INTERVAL:-3}"
done
`;
}
