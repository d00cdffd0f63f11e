/**
 * fail2ban: ban sources that fail SIP authentication (password guessing against the extensions).
 *
 * The filter matches the lines FreeSWITCH 1.10.12 writes (sofia_reg.c), as mod_logfile prints
 * them: `<date> <time> <idle cpu>% [WARNING] sofia_reg.c:<line> <message>`.
 *  - "SIP auth failure (REGISTER|INVITE) on sofia profile '<p>' for [<user>@<host>] from ip <addr>":
 *    a wrong password; logged only on profiles with log-auth-failures (profile.ts sets it wherever
 *    callers authenticate). "SIP auth challenge" lines are the normal first step of every
 *    registration and are not matched.
 *  - "Can't find user [<user>@<host>] from <addr>": a user that does not exist (e.g. the stock
 *    1000/1234 probe); logged on every profile.
 *
 * There is no rule on calls the public dialplan refuses: that context is reachable only from the
 * trunks' ranges (the ACL admits nothing else), so such a rule could only ever ban a provider.
 * For the same reason every trunk range is in ignoreip: no rule can ban a provider.
 */
import { HOST_PATHS } from "../hostLayout";
import type { StackModel } from "../model";

export const FAIL2BAN_FILTER = "freeswitch-telephony";

const LINE_PREFIX = "^.*\\[WARNING\\] sofia_reg\\.c:\\d+ ";

export function renderFail2banFilter(): string {
  return [
    "# Rendered by the stack.",
    "[Definition]",
    `failregex = ${LINE_PREFIX}SIP auth failure \\((REGISTER|INVITE)\\) on sofia profile '[^']+' for \\[[^\\]]*\\] from ip <HOST>$`,
    `            ${LINE_PREFIX}Can't find user \\[[^\\]]*\\] from <HOST>$`,
    "ignoreregex =",
    "",
  ].join("\n");
}

/** Loopback and every trunk's source ranges (active or not), sorted: never banned. */
export function neverBanned(model: StackModel): string[] {
  const ranges = new Set(["127.0.0.0/8", "::1/128", ...model.trunks.flatMap((t) => t.sourceRanges)]);
  return [...ranges].sort();
}

/** Every SIP listener of every profile (the IPv4 twins' own ports included). */
function sipPorts(model: StackModel): number[] {
  const ports = new Set(
    model.profiles.flatMap((p) => [p.sipPort, p.tlsPort, p.wssPort].filter((x): x is number => x !== undefined)),
  );
  return [...ports].sort((a, b) => a - b);
}

export function renderFail2banJail(model: StackModel): string {
  return [
    "# Rendered by the stack.",
    `[${FAIL2BAN_FILTER}]`,
    "enabled  = true",
    `filter   = ${FAIL2BAN_FILTER}`,
    `logpath  = ${HOST_PATHS.freeswitchLogFile}`,
    "backend  = polling",
    `port     = ${sipPorts(model).join(",")}`,
    "protocol = all",
    "banaction = ufw",
    "maxretry = 5",
    "findtime = 600",
    "bantime  = 3600",
    "# The trunks' ranges: a provider is never banned, whatever it sends.",
    `ignoreip = ${neverBanned(model).join(" ")}`,
    "",
  ].join("\n");
}
