/** Sofia profiles (sip_profiles/<name>.xml): the parameters the host this project replaces runs with, per profile. */
import { ACL_GATEWAYS } from "./acl";
import type { HostAddresses } from "../renderedFile";
import { appendParams, includeFile, type Params } from "./xml";
import type { Profile } from "../model";

export function profileAddresses(profile: Profile, addresses: HostAddresses) {
  const media = profile.mediaFamily === "ipv4" ? addresses.ipv4 : addresses.ipv6;
  return {
    // The address itself, never `::` (IPv6 only in Sofia, and it would claim the ports the IPv4 twin binds).
    sipIp: profile.bind === "ipv4" ? addresses.ipv4 : addresses.ipv6,
    extIp: media,
    rtpIp: media,
  };
}

/**
 * The seconds a phone's registration lasts with standby: its binding lives in the database of the
 * host it registered to, so after a takeover a phone reaches the new host within this time.
 */
export const STANDBY_REGISTRATION_SECONDS = 120;

/**
 * `withTls`: a certificate exists (tls.mode is not off); only then are TLS and WSS listeners emitted.
 * `standby`: the profile runs on a standby pair (registrations forced short, see above).
 */
export function profileParams(profile: Profile, addresses: HostAddresses, withTls: boolean, standby = false): Params {
  const ip = profileAddresses(profile, addresses);
  const tls = withTls && profile.tlsPort !== undefined;
  return [
    ["sip-ip", ip.sipIp],
    ["sip-port", profile.sipPort],
    // ext-sip-ip/ext-rtp-ip must be of the trunk's family: an IPv4 ext-rtp-ip towards an IPv6
    // provider connects the call with silence in both directions.
    ["ext-sip-ip", ip.extIp],
    ["rtp-ip", ip.rtpIp],
    ["ext-rtp-ip", ip.extIp],
    ["context", profile.context],
    ["dialplan", "XML"],
    // Default deny: only the trunks' ranges pass; others are challenged (authCalls) or refused.
    ["apply-inbound-acl", ACL_GATEWAYS],
    ["auth-calls", profile.authCalls],
    // apply-inbound-acl governs INVITEs only. A profile that authenticates nobody serves trunks
    // only and takes no REGISTER at all: disable-register answers 403 to every REGISTER
    // (sofia_reg.c). apply-register-acl would be wrong here: a REGISTER from inside that ACL is
    // registered without any authentication (REG_AUTO_REGISTER).
    ["disable-register", profile.authCalls ? undefined : true],
    // The "SIP auth failure ... from ip <addr>" line fail2ban's filter reads (sofia_reg.c).
    ["log-auth-failures", profile.authCalls ? true : undefined],
    ["accept-blind-reg", false],
    ["accept-blind-auth", false],
    ["sip-force-expires", standby ? STANDBY_REGISTRATION_SECONDS : undefined],
    ["challenge-realm", "auto_from"],
    ["inbound-codec-prefs", profile.mediaFamily === "ipv6" && profile.wssPort ? "OPUS,PCMA,PCMU" : "PCMA,PCMU"],
    ["outbound-codec-prefs", "PCMA,PCMU"],
    ["dtmf-type", "rfc2833"],
    ["rtp-timer-name", "soft"],
    ["manage-presence", false],
    ["user-agent-string", "telephony"],
    ["tls", tls ? true : undefined],
    ["tls-sip-port", tls ? profile.tlsPort : undefined],
    ["tls-cert-dir", withTls && (profile.tlsPort ?? profile.wssPort) !== undefined ? TLS_DIR_IN_CONTAINER : undefined],
    ["wss-binding", withTls && profile.wssPort !== undefined ? `:${profile.wssPort}` : undefined],
  ];
}

/** Where FreeSWITCH reads agent.pem (SIP-TLS) and wss.pem (WSS). */
export const TLS_DIR_IN_CONTAINER = "/etc/freeswitch/tls";

export function renderProfile(profile: Profile, addresses: HostAddresses, withTls: boolean, standby = false): string {
  return includeFile(`Sofia profile ${profile.name}: rendered by the stack, do not edit on the host`, (root) => {
    const el = root.ele("profile", { name: profile.name });
    el.ele("aliases");
    // Gateways are not static: parse="true" makes Sofia ask the directory (the config API, via
    // mod_xml_curl with purpose=gateways and this profile's name) for <user><gateways> entries.
    el.ele("gateways");
    el.ele("domains").ele("domain", { name: "all", alias: "false", parse: "true" });
    appendParams(el.ele("settings"), profileParams(profile, addresses, withTls, standby));
  });
}
