/**
 * The telephony guardrails as a Pulumi policy pack (CrossGuard). Run it with a preview or update:
 *   pulumi preview --policy-pack policy
 * The CLI starts this module with the stack's name and config in its environment; the policies
 * themselves are in policies.ts, where the tests call them directly.
 */
import { PolicyPack } from "@pulumi/policy";
import { guardrails } from "./policies";

new PolicyPack("telephony-guardrails", {
  description:
    "Guardrails for the FreeSWITCH telephony stack: SIP, SSH and /metrics never open to the world, the production IPv4 protected, no secret in plain config.",
  enforcementLevel: "mandatory",
  policies: guardrails(),
});
