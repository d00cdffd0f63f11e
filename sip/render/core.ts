/**
 * FreeSWITCH's core files: freeswitch.xml, vars.xml, secrets.xml and the autoload_configs that
 * are not specific to SIP. The tree replaces the image's vanilla configuration wholesale:
 * no example users, gateways or default_password survive.
 */
import type { StackModel } from "../model";
import { XML_CURL_PATH, XML_CURL_USER } from "../apiContract";
import { CONFIG_API_PORT, ESL_PORT } from "../hostLayout";
import { appendParams, configurationFile, globalVar, includeFile, xmlDocument } from "./xml";

/** Names of the global variables that carry secrets; their values live only in secrets.xml. */
export const SECRET_VARS = {
  eslPassword: "esl_password",
  xmlCurlCredentials: "xml_curl_credentials",
} as const;

export interface FreeswitchSecrets {
  readonly eslPassword: string;
  readonly xmlCurlPassword: string;
}

/** The modules loaded, in order: xml_curl must bind before Sofia asks the directory for gateways. */
export const MODULES = [
  "mod_console",
  "mod_logfile",
  "mod_event_socket",
  "mod_xml_curl",
  "mod_commands",
  "mod_dptools",
  "mod_dialplan_xml",
  "mod_sofia",
  "mod_loopback",
  "mod_opus",
  "mod_sndfile",
  "mod_native_file",
  "mod_tone_stream",
] as const;

export function renderFreeswitchXml(): string {
  return xmlDocument("document", { type: "freeswitch/xml" }, (root) => {
    root.com(" Rendered by the stack. Only what the stack decides is loaded; nothing from the image's vanilla tree. ");
    root.ele("X-PRE-PROCESS", { cmd: "include", data: "vars.xml" });
    root.ele("X-PRE-PROCESS", { cmd: "include", data: "secrets.xml" });
    root
      .ele("section", { name: "configuration", description: "Various configuration" })
      .ele("X-PRE-PROCESS", { cmd: "include", data: "autoload_configs/*.xml" });
    root
      .ele("section", { name: "dialplan", description: "Regex/XML dialplan" })
      .ele("X-PRE-PROCESS", { cmd: "include", data: "dialplan/*.xml" });
    // FreeSWITCH falls back to this static directory when an xml_curl lookup fails or says
    // "not found". It must stay empty: the stock one has users 1000-1019 with password 1234.
    root.ele("section", {
      name: "directory",
      description: "Empty on purpose: users and gateways come from the config API",
    });
  });
}

export function renderVars(model: StackModel, domain: string): string {
  return includeFile("Global variables (no secrets here; those are in secrets.xml)", (root) => {
    root.ele("X-PRE-PROCESS", { cmd: "set", data: `domain=${domain}` });
    root.ele("X-PRE-PROCESS", { cmd: "set", data: `domain_name=${domain}` });
    root.ele("X-PRE-PROCESS", { cmd: "set", data: `stack=${model.stack}` });
    // Hang up a call whose media stopped (5 min; 30 min on hold). Channel variables in ms that
    // fall back to these globals; they replace Sofia's deprecated rtp-timeout-sec/rtp-hold-timeout-sec.
    root.ele("X-PRE-PROCESS", { cmd: "set", data: `media_timeout=${MEDIA_TIMEOUT_MS}` });
    root.ele("X-PRE-PROCESS", { cmd: "set", data: `media_hold_timeout=${MEDIA_HOLD_TIMEOUT_MS}` });
    // Deliberately no default_password: the vanilla tree's "1234" is how PBXs get hijacked.
  });
}

/** The only FreeSWITCH file holding secrets: written 0600, referenced elsewhere as $${name}. */
export function renderSecretsXml(secrets: FreeswitchSecrets): string {
  return includeFile("Secrets: mode 0600, rendered from Pulumi secrets, never committed", (root) => {
    root.ele("X-PRE-PROCESS", { cmd: "set", data: `${SECRET_VARS.eslPassword}=${secrets.eslPassword}` });
    root.ele("X-PRE-PROCESS", {
      cmd: "set",
      data: `${SECRET_VARS.xmlCurlCredentials}=${XML_CURL_USER}:${secrets.xmlCurlPassword}`,
    });
  });
}

export const MEDIA_TIMEOUT_MS = 300_000;
export const MEDIA_HOLD_TIMEOUT_MS = 1_800_000;

/** mod_opus (WebRTC's codec) reads opus.conf at load and logs an error without it. */
export function renderOpusConf(): string {
  return configurationFile("opus.conf", "Opus codec (WebRTC)", (root) => {
    appendParams(root.ele("settings"), [
      ["use-vbr", true],
      // Forward error correction: browsers on lossy links recover lost packets.
      ["keep-fec-enabled", true],
      ["complexity", 10],
      ["maxaveragebitrate", 0],
      ["maxplaybackrate", 0],
    ]);
  });
}

export function renderModules(): string {
  return configurationFile("modules.conf", "Modules", (root) => {
    const modules = root.ele("modules");
    for (const module of MODULES) modules.ele("load", { module });
  });
}

export function renderSwitchConf(model: StackModel): string {
  return configurationFile("switch.conf", "Core configuration", (root) => {
    appendParams(root.ele("settings"), [
      ["colorize-console", false],
      ["loglevel", "info"],
      ["max-sessions", 1000],
      ["sessions-per-second", 30],
      // The firewall opens exactly this range (sip/firewall.ts reads the same model.rtp).
      ["rtp-start-port", model.rtp.start],
      ["rtp-end-port", model.rtp.end],
      ["dump-cores", false],
    ]);
  });
}

export function renderEventSocket(): string {
  return configurationFile("event_socket.conf", "Socket client (ESL)", (root) => {
    appendParams(root.ele("settings"), [
      ["nat-map", false],
      // Loopback only: the config API and fs_cli run on the host network beside FreeSWITCH.
      ["listen-ip", "127.0.0.1"],
      ["listen-port", ESL_PORT],
      ["password", globalVar(SECRET_VARS.eslPassword)],
      ["apply-inbound-acl", "loopback.auto"],
    ]);
  });
}

export function renderXmlCurl(): string {
  return configurationFile("xml_curl.conf", "Directory (users and gateways) from the config API", (root) => {
    const binding = root.ele("bindings").ele("binding", { name: "directory" });
    binding.ele("param", {
      name: "gateway-url",
      value: `http://127.0.0.1:${CONFIG_API_PORT}${XML_CURL_PATH}`,
      bindings: "directory",
    });
    appendParams(binding, [
      ["gateway-credentials", globalVar(SECRET_VARS.xmlCurlCredentials)],
      ["auth-scheme", "basic"],
      ["disable-100-continue", true],
      ["timeout", 5],
    ]);
  });
}

export function renderLogfile(): string {
  return configurationFile("logfile.conf", "File logging (fail2ban reads it)", (root) => {
    appendParams(root.ele("settings"), [["rotate-on-hup", true]]);
    const profile = root.ele("profiles").ele("profile", { name: "default" });
    appendParams(profile.ele("settings"), [
      ["logfile", "/var/log/freeswitch/freeswitch.log"],
      ["rollover", 10485760],
      ["maximum-rotate", 10],
    ]);
    profile.ele("mappings").ele("map", { name: "all", value: "console,debug,info,notice,warning,err,crit,alert" });
  });
}

export function renderConsole(): string {
  return configurationFile("console.conf", "Console logging", (root) => {
    root.ele("mappings").ele("map", { name: "all", value: "console,info,notice,warning,err,crit,alert" });
    appendParams(root.ele("settings"), [
      ["colorize", false],
      ["loglevel", "info"],
    ]);
  });
}

/**
 * `standby`: Sofia restarts every profile when FreeSWITCH sees the host's address change
 * (`auto-restart`, on by default). On a standby pair keepalived adds the floating addresses to the
 * interface at each takeover, which FreeSWITCH reads as such a change: the newly active host would
 * restart its profiles some twenty seconds after taking over, dropping the calls and registrations
 * it had just taken. The profiles bind fixed addresses, so a restart never helps them.
 */
export function renderSofiaConf(standby = false): string {
  return configurationFile("sofia.conf", "Sofia SIP endpoint", (root) => {
    appendParams(root.ele("global_settings"), [
      ["log-level", 0],
      ["debug-presence", 0],
      ...(standby ? ([["auto-restart", "false"]] as const) : []),
    ]);
    root.ele("profiles").ele("X-PRE-PROCESS", { cmd: "include", data: "../sip_profiles/*.xml" });
  });
}
