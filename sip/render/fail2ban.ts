/** fail2ban: ban sources that fail SIP authentication or probe unknown numbers (seed 002). */
import { REJECTED_CALL_LOG } from "./dialplan";

export const FAIL2BAN_FILTER = "freeswitch-telephony";
export const FREESWITCH_LOG = "/srv/telephony/freeswitch/log/freeswitch.log";

export function renderFail2banFilter(): string {
  const rejected = REJECTED_CALL_LOG.replace("${destination_number}", "\\S*").replace("${network_addr}", "<HOST>");
  return [
    "# Rendered by the stack.",
    "[Definition]",
    "failregex = ^.*\\[WARNING\\] sofia_reg\\.c:\\d+ SIP auth failure \\((REGISTER|INVITE)\\) on sofia profile '[^']+' for \\[[^\\]]*\\] from ip <HOST>$",
    "            ^.*\\[WARNING\\] sofia_reg\\.c:\\d+ Can't find user \\[[^\\]]*\\] from <HOST>$",
    `            ^.*\\[WARNING\\] .*${rejected}$`,
    "ignoreregex =",
    "",
  ].join("\n");
}

export function renderFail2banJail(): string {
  return [
    "# Rendered by the stack.",
    `[${FAIL2BAN_FILTER}]`,
    "enabled  = true",
    `filter   = ${FAIL2BAN_FILTER}`,
    `logpath  = ${FREESWITCH_LOG}`,
    "backend  = polling",
    "port     = 5060,5061,7443",
    "protocol = all",
    "banaction = ufw",
    "maxretry = 5",
    "findtime = 600",
    "bantime  = 3600",
    "",
  ].join("\n");
}
