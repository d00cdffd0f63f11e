/**
 * Post-deploy verification: a script run on the host after an update. It polls `sofia status`
 * until every profile is RUNNING and every active REGISTER trunk is REGED, or fails the update
 * with a message naming what is not up. IP-authenticated trunks never register: NOREG is their
 * healthy state (seed 000), so only a failure state counts against them.
 */
import type { StackModel } from "../model";
import { FREESWITCH_CONTAINER } from "../reload";

export interface StatusExpectation {
  /** As `sofia status` prints it: the profile name, or the gateway name (possibly "profile::gateway"). */
  readonly name: string;
  readonly type: "profile" | "gateway";
  /** States (first word of the State column) that count as up. */
  readonly accept: readonly string[];
  /** Why, for the failure message. */
  readonly because: string;
}

export function statusExpectations(model: StackModel): StatusExpectation[] {
  return [
    ...model.profiles.map((p) => ({ name: p.name, type: "profile" as const, accept: ["RUNNING"], because: "profile must be running" })),
    ...model.trunks
      .filter((t) => t.active)
      .map((t) =>
        t.register
          ? { name: t.name, type: "gateway" as const, accept: ["REGED"], because: `REGISTER trunk on ${t.profile} must register` }
          : { name: t.name, type: "gateway" as const, accept: ["NOREG"], because: "IP-authenticated trunk: NOREG is correct" },
      ),
  ];
}

/** The verification script; `timeoutSeconds` bounds the wait for registrations. */
export function renderVerifyScript(model: StackModel, statusCommand = `docker exec ${FREESWITCH_CONTAINER} fs_cli -x 'sofia status'`): string {
  const expectations = statusExpectations(model)
    .map((e) => `${e.type}\t${e.name}\t${e.accept.join("|")}\t${e.because}`)
    .join("\n");
  return `#!/usr/bin/env bash
# Rendered by the stack: verifies FreeSWITCH after an update (see sip/render/verify.ts).
set -uo pipefail
deadline=$(( $(date +%s) + \${VERIFY_TIMEOUT:-${model.verify.timeoutSeconds}} ))
expect=$(cat <<'EXPECT'
${expectations}
EXPECT
)
# Prints one line per expectation that is not met; nothing when all are.
unmet() {
  awk -F'\\t' -v expect="$expect" '
    BEGIN { n = split(expect, rows, "\\n"); for (i = 1; i <= n; i++) { split(rows[i], f, "\\t"); type[i] = f[1]; name[i] = f[2]; ok[i] = f[3]; why[i] = f[4] } }
    NF >= 4 {
      for (i = 1; i <= 4; i++) gsub(/^[ \\t]+|[ \\t]+$/, "", $i)
      key = $1; sub(/^.*::/, "", key)
      split($4, st, " ")
      seen[$2 "/" key] = st[1]
    }
    END {
      for (i = 1; i <= n; i++) {
        s = seen[type[i] "/" name[i]]
        if (s == "" || s !~ ("^(" ok[i] ")$")) printf "  %s %s: %s, expected %s (%s)\\n", type[i], name[i], (s == "" ? "missing" : s), ok[i], why[i]
      }
    }'
}
while :; do
  status=$(${statusCommand} 2>&1) || status=""
  problems=$(printf '%s\\n' "$status" | unmet)
  if [ -z "$problems" ]; then echo "verify: all profiles running, all trunks in their expected state"; exit 0; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "verify: FreeSWITCH is not healthy after the update:" >&2
    printf '%s\\n' "$problems" >&2
    echo "verify: check 'sofia status' on the host; for REGED failures check the trunk's credentials, realm and outbound proxy" >&2
    exit 1
  fi
  sleep "\${VERIFY_INTERVAL:-3}"
done
`;
}
