/**
 * Dialplans. `public` takes calls from trunks and routes only the configured numbers; everything
 * else is logged and refused (seed 002: a guest context that reaches only known destinations is
 * the defence against toll fraud). `default` serves extensions.
 */
import type { StackModel } from "../model";
import { includeFile, type XMLBuilder } from "./xml";

/** Log line fail2ban's filter matches; keep the two in sync (see fail2ban.ts). */
export const REJECTED_CALL_LOG = "public: rejected call to ${destination_number} from ${network_addr}";

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Matches an E.164 number as providers send it: with +, with 00, or bare digits. */
export function e164Pattern(number: string): string {
  return `^(?:\\+|00)?${escapeRegex(number.slice(1))}$`;
}

function extension(context: XMLBuilder, name: string, field: string, expression: string, actions: readonly [string, string][]): void {
  const condition = context.ele("extension", { name }).ele("condition", { field, expression });
  for (const [application, data] of actions) condition.ele("action", { application, data });
}

export function renderPublicDialplan(model: StackModel): string {
  return includeFile("Inbound calls from trunks: configured numbers only", (root) => {
    const context = root.ele("context", { name: "public" });
    for (const n of model.numbers) {
      extension(context, `${n.number} ${n.use}`, "destination_number", e164Pattern(n.number), [
        ["set", `called_number=${n.number}`],
        ["set", `domain_name=$\${domain}`],
        ["bridge", `user/${n.destination}@$\${domain}`],
      ]);
    }
    extension(context, "reject-unknown-destination", "destination_number", "^.*$", [
      ["log", `WARNING ${REJECTED_CALL_LOG}`],
      ["respond", "404"],
    ]);
  });
}

export function renderDefaultDialplan(model: StackModel): string {
  return includeFile("Calls from extensions", (root) => {
    const context = root.ele("context", { name: "default" });
    const ids = model.extensions.map((e) => e.id);
    if (ids.length > 0) {
      extension(context, "extension-to-extension", "destination_number", `^(${ids.map(escapeRegex).join("|")})$`, [
        ["bridge", "user/$1@$${domain}"],
      ]);
    }
    const trunk = model.trunks.find((t) => t.name === model.freeswitch.outboundTrunk);
    if (trunk) {
      const callerId = trunk.callerId;
      extension(context, `outbound-via-${trunk.name}`, "destination_number", "^(\\+[1-9][0-9]{6,14})$", [
        ...(callerId ? ([["set", `effective_caller_id_number=${callerId}`]] as [string, string][]) : []),
        ["set", "outbound_caller_id_number=${outbound_caller_id_number}"],
        ["bridge", `sofia/gateway/${trunk.name}/$1`],
      ]);
    }
    extension(context, "reject-unknown-destination", "destination_number", "^.*$", [["respond", "404"]]);
  });
}
