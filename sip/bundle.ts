/**
 * The rendered bundle: every file the stack pushes to the host, with its path on the host, its
 * reload class and whether it holds secrets. `npm start` writes it to out/<stack>/; the deploy
 * pushes the same files. Pure and deterministic: the same inputs give byte-identical output.
 */
import {
  API_OPTIONAL_SECRET_FILES,
  API_SECRET_FILES,
  XML_CURL_PATH,
  XML_CURL_USER,
  type ApiOptionalSecrets,
  type ApiSecrets,
  type ApiSettings,
} from "./apiContract";
import {
  ACME_PATHS,
  API_CONTAINER_PATHS,
  API_HA_STATE,
  HA_PATHS,
  CONFIG_API_PORT,
  ESL_PORT,
  HOST_MAINTENANCE_PATHS,
  HOST_PATHS,
  METRICS_PORT,
  TLS_HOST_DIR,
} from "./hostLayout";
import type { StackModel } from "./model";
import type { ReloadClass } from "./reload";
import { renderAcl } from "./render/acl";
import {
  renderConsole,
  renderEventSocket,
  renderFreeswitchXml,
  renderLogfile,
  renderModules,
  renderOpusConf,
  renderSecretsXml,
  renderSofiaConf,
  renderSwitchConf,
  renderVars,
  renderXmlCurl,
} from "./render/core";
import { renderDefaultDialplan, renderPublicDialplan } from "./render/dialplan";
import { renderFail2banFilter, renderFail2banJail, FAIL2BAN_FILTER } from "./render/fail2ban";
import { renderProfile } from "./render/profile";
import type { HostAddresses, RenderedFile } from "./renderedFile";
import { renderUfwScript } from "./render/ufw";
import {
  renderCheckScript,
  renderHostEnv,
  renderKeepalivedConf,
  renderNonlocalBindSysctl,
  renderNotifyScript,
} from "./render/keepalived";
import { standbyPlan, type StandbyHostFacts, type StandbyHostKey } from "./standby";
import { renderAutoUpgrades, renderDockerDaemonJson, renderUnattendedUpgrades } from "./render/hostMaintenance";
import {
  CA_FILE,
  certificateBundle,
  renderAcmeDnsHook,
  renderAcmeEnv,
  renderAcmeRenewScript,
  renderAcmeService,
  renderAcmeTimer,
  tlsProfiles,
  tlsReloadClass,
} from "./render/tls";

/**
 * Secrets the host needs: the config API's (apiContract.ts; eslPassword and xmlCurlPassword are
 * FreeSWITCH's too) and the certificates' own. Values are Pulumi secrets when deployed, a mask
 * when rendered offline.
 */
export interface HostSecrets extends Readonly<ApiSecrets>, Readonly<ApiOptionalSecrets> {
  /** tls.mode self-signed: the certificate the stack made. */
  readonly selfSignedCertificate?: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** tls.mode acme with dns-01: the zone's Hetzner token the renewal's DNS hook writes the challenge record with. */
  readonly acmeDnsToken?: string;
  /** standby: the Hetzner Cloud token the notify script assigns the floating IPs with (HA_PATHS.token). */
  readonly hetznerFloatingIpToken?: string;
}

export const MASK = "********";
export const MASKED_SECRETS: HostSecrets = {
  eslPassword: MASK,
  xmlCurlPassword: MASK,
  fernetKey: MASK,
  adminToken: MASK,
  selfSignedCertificate: { certificatePem: `${MASK} (certificate made at deploy)`, privateKeyPem: MASK },
  acmeDnsToken: MASK,
  alertsWebhookToken: MASK,
  hetznerFloatingIpToken: MASK,
};

/**
 * The SIP domain extensions register to. Without a host name it is the server's IPv4 address, not
 * its IPv6 one: measured on FreeSWITCH 1.10.12, phones write an IPv6 domain as `[2001:db8::1]`
 * and Sofia looks users up under that name (the bare address then never matches), while a
 * bracketed domain breaks calls to extensions inside Sofia's stack. The IPv4 address is only a
 * name here: phones register to it over IPv6 as well.
 */
export function sipDomain(model: StackModel, addresses: HostAddresses): string {
  return model.freeswitch.domain ?? model.host.hostname ?? addresses.ipv4;
}

/**
 * The config API's non-secret settings file (its shape: apiContract.ts); secrets are separate 0600
 * files beside it. `host` (standby only): which host of the pair this API runs on; it then serves
 * gateways only while the role file says this host is active.
 */
export function apiSettings(model: StackModel, addresses: HostAddresses, host?: StandbyHostKey): ApiSettings {
  return {
    listen: { host: "127.0.0.1", port: CONFIG_API_PORT },
    metricsListen: { host: "::", port: METRICS_PORT },
    domain: sipDomain(model, addresses),
    directoryCacheSeconds: model.freeswitch.directoryCacheSeconds,
    profiles: model.profiles.map((p) => p.name),
    esl: { host: "127.0.0.1", port: ESL_PORT },
    xmlCurlUser: XML_CURL_USER,
    xmlCurlPath: XML_CURL_PATH,
    storePath: API_CONTAINER_PATHS.store,
    secretsDir: API_CONTAINER_PATHS.secretsDir,
    ...(model.alerts ? { alerts: { webhook: model.alerts.webhook, holdSeconds: model.alerts.holdSeconds } } : {}),
    ...(model.standby && host ? { ha: { statePath: API_HA_STATE, host } } : {}),
  };
}

function file(path: string, content: string, reload: ReloadClass, secret = false): RenderedFile {
  return { path, content, reload, secret, mode: secret ? "0600" : "0644" };
}

function tlsFiles(model: StackModel, secrets: HostSecrets): RenderedFile[] {
  const profiles = tlsProfiles(model);
  if (model.tls.mode === "off" || profiles.length === 0) return [];
  if (model.tls.mode === "self-signed") {
    const cert = secrets.selfSignedCertificate;
    if (!cert) throw new Error("tls.mode self-signed needs the stack's certificate to render");
    const pem = certificateBundle(cert.certificatePem, cert.privateKeyPem);
    const reload: ReloadClass = tlsReloadClass(model);
    return [
      ...["agent.pem", "wss.pem"].map((f) => file(`${TLS_HOST_DIR}/${f}`, pem, reload, true)),
      // Without cafile.pem beside agent.pem Sofia writes tls.pem into the (read-only) tree, fails,
      // and the whole profile stays down. Self-signed: the certificate is its own CA.
      file(`${TLS_HOST_DIR}/${CA_FILE}`, cert.certificatePem, reload, true),
    ];
  }
  const acme: ReloadClass = { kind: "acme" };
  return [
    file(ACME_PATHS.script, renderAcmeRenewScript(model), acme),
    file(ACME_PATHS.env, renderAcmeEnv(secrets.acmeDnsToken, model.tls.challenge), acme, true),
    // lego's exec provider runs the hook itself: it must be executable.
    ...(model.tls.challenge === "dns-01"
      ? [{ ...file(ACME_PATHS.dnsHook, renderAcmeDnsHook(model), acme), mode: "0700" }]
      : []),
    file(ACME_PATHS.service, renderAcmeService(), acme),
    file(ACME_PATHS.timer, renderAcmeTimer(), acme),
  ];
}

/**
 * The standby pair's files for one host (render/keepalived.ts), all in the keepalived class:
 * keepalived.conf and host.env differ between the two hosts, the rest is the same on both.
 */
function standbyFiles(model: StackModel, addresses: HostAddresses, secrets: HostSecrets, host: StandbyHostFacts) {
  const plan = standbyPlan(model)!;
  const token = secrets.hetznerFloatingIpToken;
  if (token === undefined)
    throw new Error("standby needs secrets.hetznerFloatingIpToken to render the notify script's token file");
  const reload: ReloadClass = { kind: "keepalived", privateIpv4: plan.privateIpv4[host.key] };
  const script = (path: string, content: string) => ({ ...file(path, content, reload), mode: "0700" });
  return [
    file(HA_PATHS.keepalivedConf, renderKeepalivedConf(model, addresses, host.key), reload),
    file(HA_PATHS.hostEnv, renderHostEnv(model, host, addresses), reload),
    file(HA_PATHS.sysctl, renderNonlocalBindSysctl(), reload),
    file(HA_PATHS.token, token, reload, true),
    // keepalived runs them as root (enable_script_security): executable, and writable by root only.
    script(HA_PATHS.notify, renderNotifyScript()),
    script(HA_PATHS.check, renderCheckScript(model)),
  ];
}

/**
 * Every file the stack pushes to a host. With standby, `host` says which host of the pair the
 * bundle is for and `addresses` are the floating ones (the profiles bind them, see
 * render/keepalived.ts for the nonlocal bind): the bundle then carries the pair's files too.
 * Without standby `host` is ignored and the bundle is the single host's, as it always was.
 */
export function renderBundle(
  model: StackModel,
  addresses: HostAddresses,
  secrets: HostSecrets,
  host?: StandbyHostFacts,
): RenderedFile[] {
  if (model.standby && !host)
    throw new Error("standby is enabled: renderBundle needs the host (primary or standby) it renders for");
  const pair = model.standby ? host : undefined;
  const conf = HOST_PATHS.freeswitchConf;
  const { drainSeconds } = model.maintenance;
  const restart: ReloadClass = {
    kind: "freeswitch-restart",
    drainSeconds,
    ...(pair ? { takeover: true as const } : {}),
  };
  const domain = sipDomain(model, addresses);
  const files: RenderedFile[] = [
    file(`${conf}/freeswitch.xml`, renderFreeswitchXml(), restart),
    file(`${conf}/vars.xml`, renderVars(model, domain), restart),
    file(`${conf}/secrets.xml`, renderSecretsXml(secrets), restart, true),
    file(`${conf}/autoload_configs/modules.conf.xml`, renderModules(), restart),
    file(`${conf}/autoload_configs/switch.conf.xml`, renderSwitchConf(model), restart),
    file(`${conf}/autoload_configs/event_socket.conf.xml`, renderEventSocket(), restart),
    file(`${conf}/autoload_configs/xml_curl.conf.xml`, renderXmlCurl(), restart),
    file(`${conf}/autoload_configs/logfile.conf.xml`, renderLogfile(), restart),
    file(`${conf}/autoload_configs/console.conf.xml`, renderConsole(), restart),
    file(`${conf}/autoload_configs/sofia.conf.xml`, renderSofiaConf(model.standby !== undefined), restart),
    file(`${conf}/autoload_configs/opus.conf.xml`, renderOpusConf(), restart),
    file(`${conf}/autoload_configs/acl.conf.xml`, renderAcl(model), { kind: "acl" }),
    file(`${conf}/dialplan/public.xml`, renderPublicDialplan(model), { kind: "dialplan" }),
    file(`${conf}/dialplan/default.xml`, renderDefaultDialplan(model), { kind: "dialplan" }),
    ...model.profiles.map((p) =>
      file(`${conf}/sip_profiles/${p.name}.xml`, renderProfile(p, addresses, model.tls.mode !== "off", !!pair), {
        kind: "profile",
        profile: p.name,
        drainSeconds,
      }),
    ),
    file(
      HOST_PATHS.fsCliConf,
      `[default]\nhost => 127.0.0.1\nport => ${ESL_PORT}\npassword => ${secrets.eslPassword}\n`,
      restart,
      true,
    ),
    file(HOST_PATHS.apiConfig, JSON.stringify(apiSettings(model, addresses, pair?.key), null, 2) + "\n", {
      kind: "api-restart",
    }),
    file(
      `${HOST_PATHS.apiSecrets}/${API_SECRET_FILES.eslPassword}`,
      secrets.eslPassword,
      { kind: "api-restart" },
      true,
    ),
    file(
      `${HOST_PATHS.apiSecrets}/${API_SECRET_FILES.xmlCurlPassword}`,
      secrets.xmlCurlPassword,
      { kind: "api-restart" },
      true,
    ),
    file(`${HOST_PATHS.apiSecrets}/${API_SECRET_FILES.fernetKey}`, secrets.fernetKey, { kind: "api-restart" }, true),
    file(`${HOST_PATHS.apiSecrets}/${API_SECRET_FILES.adminToken}`, secrets.adminToken, { kind: "api-restart" }, true),
    ...(model.alerts && secrets.alertsWebhookToken !== undefined
      ? [
          file(
            `${HOST_PATHS.apiSecrets}/${API_OPTIONAL_SECRET_FILES.alertsWebhookToken}`,
            secrets.alertsWebhookToken,
            { kind: "api-restart" },
            true,
          ),
        ]
      : []),
    file(HOST_PATHS.ufwScript, renderUfwScript(model, pair?.key), { kind: "host-firewall" }),
    file(`/etc/fail2ban/filter.d/${FAIL2BAN_FILTER}.conf`, renderFail2banFilter(), { kind: "fail2ban" }),
    file(`/etc/fail2ban/jail.d/${FAIL2BAN_FILTER}.conf`, renderFail2banJail(model), { kind: "fail2ban" }),
    file(HOST_MAINTENANCE_PATHS.dockerDaemon, renderDockerDaemonJson(), { kind: "host-maintenance" }),
    file(HOST_MAINTENANCE_PATHS.autoUpgrades, renderAutoUpgrades(), { kind: "host-maintenance" }),
    file(HOST_MAINTENANCE_PATHS.unattendedUpgrades, renderUnattendedUpgrades(), { kind: "host-maintenance" }),
  ];
  files.push(...tlsFiles(model, secrets));
  if (pair) files.push(...standbyFiles(model, addresses, secrets, pair));
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
