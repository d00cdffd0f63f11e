/**
 * Dialplans. `public` takes calls from trunks and routes only the configured numbers; everything
 * else is logged and refused (a context for unauthenticated callers that reaches only known
 * destinations is the defence against toll fraud: nobody can dial out through it). `default` serves extensions.
 */
import type { StackModel } from "../model";
import { outboundRoutes } from "../routing";
import { includeFile, type XMLBuilder } from "./xml";

/**
 * Logged for every call to a number this stack does not route. Only trunks reach the public
 * context, so this is for the operator, not for fail2ban (see fail2ban.ts).
 */
export const REJECTED_CALL_LOG = "public: rejected call to ${destination_number} from ${network_addr}";

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Matches an E.164 number as providers send it: with +, with 00, or bare digits. */
export function e164Pattern(number: string): string {
  return `^(?:\\+|00)?${escapeRegex(number.slice(1))}$`;
}

type Condition = readonly [field: string, expression: string];

/** An <extension> whose conditions must all match (FreeSWITCH ANDs them); actions go in the last. */
function extension(
  context: XMLBuilder,
  name: string,
  field: string,
  expression: string,
  actions: readonly [string, string][],
  before: readonly Condition[] = [],
): void {
  const ext = context.ele("extension", { name });
  for (const [f, e] of before) ext.ele("condition", { field: f, expression: e });
  const condition = ext.ele("condition", { field, expression });
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
    // E.164 numbers and the emergency numbers leave through the trunk that owns the caller's
    // outbound caller ID (the directory sets outbound_caller_id_number per extension), presenting
    // that number; an extension without one, or whose trunk is off in this stack, takes the
    // fallback trunk (freeswitch.outboundTrunk).
    const emergency = model.freeswitch.emergencyNumbers.map(escapeRegex);
    const destinations = `^(\\+[1-9][0-9]{6,14}${emergency.map((n) => `|${n}`).join("")})$`;
    for (const route of outboundRoutes(model)) {
      const actions: [string, string][] = [
        ...(route.callerId ? ([["set", `effective_caller_id_number=${route.callerId}`]] as [string, string][]) : []),
        ["bridge", `sofia/gateway/${route.trunk.name}/$1`],
      ];
      if (route.fallback)
        extension(context, `outbound-fallback-via-${route.trunk.name}`, "destination_number", destinations, actions);
      else
        extension(
          context,
          `outbound-as-${route.callerId}-via-${route.trunk.name}`,
          "destination_number",
          destinations,
          actions,
          [["${outbound_caller_id_number}", `^${escapeRegex(route.callerId!)}$`]],
        );
    }
    extension(context, "reject-unknown-destination", "destination_number", "^.*$", [["respond", "404"]]);
  });
}
