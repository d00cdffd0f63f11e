/**
 * What FreeSWITCH's answer to an ESL `api` command means. Only some refusals start with "-ERR":
 * mod_sofia answers an unknown profile with `Invalid Profile [x]`, bad arguments with
 * `Invalid Args!` or its usage text, and `rescan` prints `Reload XML [<result>]` before its
 * `+OK`/`-ERR` line (mod_sofia.c cmd_profile); mod_event_socket answers an unknown command with
 * `-ERR <cmd> Command not found!`. So an answer counts as success only when it says so: its last
 * line starts with "+OK" and any XML reload in it succeeded.
 */

export type ReplyVerdict =
  | { readonly kind: "applied" }
  /** killgw of a gateway FreeSWITCH does not run: there is nothing left to kill. */
  | { readonly kind: "absent" }
  | { readonly kind: "refused"; readonly reason: string };

const RELOAD_XML = /^Reload XML \[(.*)\]$/;

export function judgeReply(command: string, reply: string): ReplyVerdict {
  const lines = reply
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const refused = (reason: string): ReplyVerdict => ({ kind: "refused", reason });
  if (lines.length === 0) return refused("empty reply");
  for (const line of lines) {
    const reload = RELOAD_XML.exec(line);
    if (reload && reload[1] !== "Success") return refused(`XML reload failed: ${reload[1]}`);
  }
  const last = lines[lines.length - 1];
  if (last.startsWith("+OK")) return { kind: "applied" };
  // sofia's killgw looks the gateway up by name on every profile: "no such gateway" means gone.
  if (/ killgw /.test(command) && /^-ERR no such gateway/.test(last)) return { kind: "absent" };
  return refused(lines.filter((l) => !RELOAD_XML.test(l)).join(" / "));
}
