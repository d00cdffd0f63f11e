/**
 * Provider presets: what a trunk to each provider needs, from the running configuration of the host
 * this project replaces (Plusnet, 1&1) and the providers' own documentation (Twilio, VoIP.ms).
 * A stack's trunk starts from its preset and may override any field.
 * This is the one place provider addresses and ranges are written down.
 */
import type { TrunkConfig } from "./schema";

export type PresetName = TrunkConfig["preset"];
export type PresetFields = Omit<TrunkConfig, "preset" | "activeInStacks">;

export interface ProviderPreset {
  readonly label: string;
  /** What the preset cannot know and the stack must set, with the reason. */
  readonly needs: readonly { field: keyof PresetFields; why: string }[];
  readonly fields: PresetFields;
}

export const PRESETS: Record<PresetName, ProviderPreset> = {
  // The replaced host's Plusnet trunk: IP authentication by source IPv4, no REGISTER (gateway state NOREG is correct).
  plusnet: {
    label: "Plusnet (IP authentication, IPv4)",
    needs: [],
    fields: {
      profile: "external-ipv4",
      family: "ipv4",
      proxy: "sip.plusnet.de",
      // Mandatory: sip.plusnet.de is DNS round-robin; without a fixed outbound proxy INVITE and
      // ACK can reach different servers and the call fails with 408.
      outboundProxy: "92.197.176.16",
      register: false,
      callerIdInFrom: false,
      sourceRanges: ["92.197.176.0/24", "92.197.177.0/24", "92.197.182.0/24"],
      signaling: [
        { port: 5060, protocol: "udp" },
        { port: 5061, protocol: "tcp" },
      ],
    },
  },
  // The replaced host's 1&1 trunk: REGISTER over IPv6 only; 1&1 answers 503 to registrations from Hetzner IPv4.
  "1und1": {
    label: "1&1 (REGISTER, IPv6)",
    needs: [{ field: "username", why: "1&1 registers with the account's SIP user name" }],
    fields: {
      profile: "internal",
      family: "ipv6",
      proxy: "sip.1und1.de",
      // The realm is the proxy host; "1und1.de" answers 401 even with correct credentials.
      realm: "sip.1und1.de",
      outboundProxy: "[2001:8d8:104:100:212:227:124:129]",
      register: true,
      sourceRanges: ["2001:8d8:104:100:212:227:124:128/125", "212.227.124.0/24"],
      signaling: [{ port: 5060, protocol: "udp" }],
    },
  },
  // Twilio Elastic SIP Trunking authenticates by IP access control list.
  twilio: {
    label: "Twilio (IP access control list)",
    needs: [
      { field: "proxy", why: "your trunk's termination URI, e.g. example.pstn.twilio.com" },
      {
        field: "outboundProxy",
        why: "a fixed edge, e.g. example.pstn.frankfurt.twilio.com, so INVITE and ACK meet one server",
      },
    ],
    fields: {
      profile: "external-ipv4",
      family: "ipv4",
      register: false,
      // Twilio's published SIP signalling ranges (legacy per-edge blocks;
      // https://www.twilio.com/docs/sip-trunking/ip-addresses).
      sourceRanges: [
        "54.172.60.0/30",
        "54.244.51.0/30",
        "54.171.127.192/30",
        "35.156.191.128/30",
        "54.65.63.192/30",
        "54.169.127.128/30",
        "54.252.254.64/30",
        "177.71.206.192/30",
      ],
      signaling: [{ port: 5060, protocol: "udp" }],
    },
  },
  // VoIP.ms routes a DID to a SIP registration of the (sub)account, so the gateway must REGISTER.
  voipms: {
    label: "VoIP.ms (REGISTER)",
    needs: [
      { field: "proxy", why: "the VoIP.ms server your account uses, e.g. seattle.voip.ms" },
      { field: "username", why: "the VoIP.ms (sub)account" },
      { field: "sourceRanges", why: "the address range of that VoIP.ms server" },
    ],
    fields: {
      profile: "external-ipv4",
      family: "ipv4",
      register: true,
      signaling: [{ port: 5060, protocol: "udp" }],
    },
  },
  generic: {
    label: "Generic SIP trunk",
    needs: [
      { field: "profile", why: "the Sofia profile the trunk runs on" },
      { field: "family", why: "ipv4 or ipv6, the family its media uses" },
      { field: "proxy", why: "the provider's SIP proxy" },
      { field: "register", why: "true for REGISTER, false for IP authentication" },
      { field: "sourceRanges", why: "the ranges the provider sends SIP from" },
      { field: "signaling", why: "ports and protocols the provider reaches us on" },
    ],
    fields: {},
  },
};
