/**
 * Drain before a disruptive restart: the one piece of shell every FreeSWITCH container restart and
 * every Sofia profile restart runs first (reload classes freeswitch-restart, profile-<name> and
 * tls, the FreeSWITCH container's start on an image change, the daily ACME renewal). It polls
 * `fs_cli -x 'show calls count'` once a second and returns at the first moment no call is up, or
 * when the bound (telephony:maintenance.drainSeconds) has passed, whichever comes first; at the
 * bound it says so on stderr and the restart happens anyway (the calls still up then drop).
 *
 * What it deliberately does not do:
 * - hold new calls: FreeSWITCH keeps taking calls during the wait, so a busy host may reach the
 *   bound. `fsctl pause` would hold them, but it refuses REGISTER too (503 with Retry-After: 300,
 *   so a phone may stay away five minutes); registrations must keep working throughout.
 * - `fsctl shutdown elegant`: it waits for the last call with no bound at all.
 *
 * A FreeSWITCH that is not running, or does not answer fs_cli, has no call to wait for: idle.
 * Pure text: the container name and the bound are parameters (the tests run it against other
 * containers, and against stub commands).
 */

/** The shell function's name, as the rendered scripts call it. */
export const DRAIN_FUNCTION = "drain_calls";

/** What a drained restart does first, in the words the summary, the reload table and the preview use. */
export function drainNote(seconds: number): string {
  return `waits up to ${seconds} s for calls to end`;
}

/**
 * Shell (bash or POSIX sh, fine under `set -euo pipefail`) that waits until `container`'s
 * FreeSWITCH has no call up, at most `seconds`; the restart goes on the lines after it.
 */
export function drainCommand(container: string, seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new Error(`drain bound must be a whole number of seconds, not ${seconds}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(container))
    throw new Error(`not a container name: ${JSON.stringify(container)}`);
  return [
    `# Drain (telephony:maintenance.drainSeconds): ${drainNote(seconds)} on ${container}, then restarts: at the first moment`,
    "# no call is up, or at the bound with the calls still up then dropping. New calls and REGISTERs are taken meanwhile.",
    `${DRAIN_FUNCTION}() {`,
    "  local container=$1 bound=$2 start calls waited said=",
    "  start=$(date +%s)",
    "  while :; do",
    // No count (not running, not answering, no such container): nothing to wait for.
    `    calls=$(timeout 10 docker exec "$container" fs_cli -x 'show calls count' 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && $2 ~ /^total/ && n == "" { n = $1 } END { print n }') || calls=`,
    "    waited=$(( $(date +%s) - start ))",
    '    if [ -z "$calls" ] || [ "$calls" -eq 0 ]; then',
    '      if [ -n "$said" ]; then echo "drain: no call up on $container after $waited s: restarting now" >&2; fi',
    "      return 0",
    "    fi",
    // `date +%s` counts whole seconds: only a count past the bound proves the bound has passed (a
    // call is never cut before it; the restart comes at most about a second later).
    '    if [ "$bound" -eq 0 ] || [ "$waited" -gt "$bound" ]; then',
    '      echo "drain: $calls call(s) still up on $container after $bound s (maintenance.drainSeconds): restarting anyway, they drop" >&2',
    "      return 0",
    "    fi",
    '    if [ -z "$said" ]; then echo "drain: $calls call(s) up on $container: waiting up to $bound s for them to end" >&2; said=1; fi',
    "    sleep 1",
    "  done",
    "}",
    `${DRAIN_FUNCTION} ${container} ${seconds}`,
  ].join("\n");
}
