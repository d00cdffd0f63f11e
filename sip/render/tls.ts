/**
 * Certificates for SIP over TLS (agent.pem) and WebRTC over WSS (wss.pem). FreeSWITCH reads both,
 * certificate and key concatenated, from its tls directory, and only when a profile starts.
 *
 * ACME: lego, from Debian's packages on the host (no image to pull; apt and unattended-upgrades
 * keep it), obtains and renews the certificate; a systemd timer runs the renewal job daily, and
 * the job restarts the TLS profiles only when the certificate actually changed (docs/deployment.md,
 * "TLS", says why lego). Self-signed: the stack makes the certificate (@pulumi/tls) and pushes it
 * like any other secret file.
 */
import { claimedHostname, type StackModel } from "../model";
import { ifContainerRunning, reloadCommand, type CertificateLoad, type ReloadClass } from "../reload";
import { ACME_PATHS, FREESWITCH_CONTAINER, TLS_HOST_DIR } from "../hostLayout";

/**
 * The CA list Sofia loads beside agent.pem (tls-cert-dir/cafile.pem). When it is missing, Sofia
 * generates tls.pem in the tree instead, which fails on the read-only mount and takes the profile down.
 */
export const CA_FILE = "cafile.pem";

/** Profiles that serve TLS or WSS: the ones a new certificate is for. */
export function tlsProfiles(model: StackModel): string[] {
  return model.profiles.filter((p) => p.tlsPort !== undefined || p.wssPort !== undefined).map((p) => p.name);
}

/**
 * How a new certificate reaches Sofia on this stack: the packaged image is FreeSWITCH 1.11.2, which
 * has `reloadcert`; an image of the operator's is asked for its version on the host.
 */
export function certificateLoad(model: StackModel): CertificateLoad {
  return model.freeswitch.image === undefined ? "reloadcert" : "by-reported-version";
}

/** The reload class of a certificate change: pushed (self-signed) or renewed (ACME) alike. */
export function tlsReloadClass(model: StackModel): Extract<ReloadClass, { kind: "tls" }> {
  return {
    kind: "tls",
    profiles: tlsProfiles(model),
    drainSeconds: model.maintenance.drainSeconds,
    load: certificateLoad(model),
  };
}

/** agent.pem and wss.pem have the same content: certificate chain, then private key. */
export function certificateBundle(certificatePem: string, privateKeyPem: string): string {
  const nl = (s: string) => (s.endsWith("\n") ? s : `${s}\n`);
  return nl(certificatePem) + nl(privateKeyPem);
}

/** Renew this many days before expiry (Let's Encrypt certificates live 90 days). */
export const RENEW_DAYS = 30;

/** lego's state (account, certificates) per ACME server, so a changed tls.acmeServer issues anew. */
export function acmeStateDir(acmeServer: string): string {
  return `${ACME_PATHS.state}/${new URL(acmeServer).host}`;
}

/**
 * The renewal job: issue (first run) or renew (when due) with lego, then install and load it
 * (tlsReloadClass) only when the certificate changed. Its contract: agent.pem and wss.pem (chain, then
 * key) and cafile.pem (the issuer) in FreeSWITCH's tls directory, 0600 root; nothing is written
 * and nothing restarts when the certificate is unchanged.
 */
export function renderAcmeRenewScript(model: StackModel): string {
  const { tls } = model;
  // Only a stack that owns the name asks ACME for it (host.hostnameOwnedBy; the checks say so first).
  const host = claimedHostname(model);
  if (!host)
    throw new Error(
      `stack ${model.stack} does not own a host name (host.hostname, host.hostnameOwnedBy): no ACME certificate to ask for`,
    );
  const http = tls.challenge === "http-01";
  const state = acmeStateDir(tls.acmeServer);
  const challenge = http ? "--http --http.port :80" : "--dns exec";
  const load = reloadCommand(tlsReloadClass(model), { ufwScript: "" });
  return [
    "#!/usr/bin/env bash",
    "# Rendered by the stack: obtains/renews the TLS certificate for FreeSWITCH with Debian's lego (see sip/render/tls.ts).",
    "set -euo pipefail",
    "umask 077",
    `install -d -m 0700 ${TLS_HOST_DIR} ${state}`,
    ...(http
      ? [
          "# http-01: port 80 is admitted by UFW only while the ACME server validates.",
          "ufw allow proto tcp to any port 80 comment 'ACME http-01 (temporary)' >/dev/null",
          "trap 'ufw delete allow proto tcp to any port 80 >/dev/null' EXIT",
        ]
      : [
          "# dns-01: lego's exec provider runs the hook, which writes the TXT record with the zone's token.",
          // Read as data, never sourced: the token is not shell.
          `HETZNER_TOKEN=$(sed -n 's/^HETZNER_TOKEN=//p' ${ACME_PATHS.env})`,
          `export HETZNER_TOKEN EXEC_PATH=${ACME_PATHS.dnsHook} EXEC_PROPAGATION_TIMEOUT=600 EXEC_POLLING_INTERVAL=10`,
        ]),
    `lego_() { lego --accept-tos --server ${tls.acmeServer} --email ${tls.email ?? ""} --path ${state} --key-type ec256 --domains ${host} ${challenge} "$@"; }`,
    `live=${state}/certificates`,
    // renew is a no-op (exit 0) until the certificate is due; the timer already spreads the start.
    `if [ -s "$live/${host}.crt" ]; then lego_ renew --days ${RENEW_DAYS} --no-random-sleep; else lego_ run; fi`,
    // Sofia takes whatever PEM it is given: reloadcert answers +OK even for a key that does not match,
    // and the TLS port then serves no certificate at all. A pair that does not belong together stops
    // here, before it replaces the one that works (openssl comes with ca-certificates).
    `if [ "$(openssl x509 -noout -pubkey -in "$live/${host}.crt" | openssl sha256)" != "$(openssl pkey -pubout -in "$live/${host}.key" | openssl sha256)" ]; then`,
    `  echo "the certificate lego stored for ${host} does not match its key: nothing installed, the running certificate stays" >&2; exit 1`,
    "fi",
    `new=$(mktemp ${TLS_HOST_DIR}/.pem.XXXXXX)`,
    `cat "$live/${host}.crt" "$live/${host}.key" > "$new"`,
    // The issuer chain as Sofia's CA list, written whenever it differs, so a tree from before it gets one too.
    `if ! cmp -s "$live/${host}.issuer.crt" ${TLS_HOST_DIR}/${CA_FILE}; then cp "$live/${host}.issuer.crt" ${TLS_HOST_DIR}/${CA_FILE}.new && mv -f ${TLS_HOST_DIR}/${CA_FILE}.new ${TLS_HOST_DIR}/${CA_FILE}; fi`,
    `if cmp -s "$new" ${TLS_HOST_DIR}/agent.pem; then rm -f "$new"; echo "certificate unchanged"; exit 0; fi`,
    `cp "$new" ${TLS_HOST_DIR}/wss.pem.new && mv -f ${TLS_HOST_DIR}/wss.pem.new ${TLS_HOST_DIR}/wss.pem`,
    `mv -f "$new" ${TLS_HOST_DIR}/agent.pem`,
    "# Into the running FreeSWITCH: reloadcert where it has it (nothing drops), else a restart of only",
    "# the profiles that serve TLS/WSS, once no call is up (or at the drain's bound). It says which.",
    ifContainerRunning(FREESWITCH_CONTAINER, load),
    'echo "certificate installed"',
    "",
  ].join("\n");
}

/** The Hetzner Cloud API; HETZNER_API overrides it (the tests point it at a stand-in on loopback). */
export const HETZNER_API = "https://api.hetzner.cloud/v1";

/**
 * dns-01's hook for lego's exec provider (`present|cleanup <fqdn> <value>`): adds or removes the
 * TXT record in the stack's zone through the Hetzner Cloud DNS API (rrset actions), with the
 * zone project's token. Debian's lego (4.9.1) has no Hetzner Cloud DNS provider of its own: its
 * `hetzner` provider speaks the former DNS Console API (dns.hetzner.com), not the zone the stack
 * writes with hcloud.
 */
export function renderAcmeDnsHook(model: StackModel): string {
  const zone = model.dns?.zone;
  if (!zone) throw new Error(`stack ${model.stack}: dns-01 needs dns.zone`);
  return [
    "#!/usr/bin/env bash",
    "# Rendered by the stack: lego's exec DNS provider runs this to write the dns-01 TXT record (see sip/render/tls.ts).",
    "set -euo pipefail",
    "action=$1 fqdn=${2%.} value=${3:-}",
    `zone=${zone}`,
    'case "$fqdn" in *."$zone") name=${fqdn%."$zone"} ;; *) echo "$fqdn is not inside the zone $zone" >&2; exit 1 ;; esac',
    'case "$action" in',
    `  present) verb=add_records body='{"ttl":60,"records":[{"value":"\\"'"$value"'\\""}]}' ;;`,
    `  cleanup) verb=remove_records body='{"records":[{"value":"\\"'"$value"'\\""}]}' ;;`,
    "  *) exit 0 ;;",
    "esac",
    // The token goes in a header read from a file descriptor, never on curl's command line.
    `curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -H @<(printf 'Authorization: Bearer %s\\n' "$HETZNER_TOKEN") --data-binary "$body" "\${HETZNER_API:-${HETZNER_API}}/zones/$zone/rrsets/$name/TXT/actions/$verb"`,
    "",
  ].join("\n");
}

export function renderAcmeEnv(dnsToken: string | undefined, challenge: StackModel["tls"]["challenge"]): string {
  return challenge === "dns-01" ? `HETZNER_TOKEN=${dnsToken ?? ""}\n` : "# http-01: no credentials needed\n";
}

export function renderAcmeService(): string {
  return [
    "[Unit]",
    "Description=Renew the FreeSWITCH TLS certificate (ACME)",
    "After=docker.service",
    "Requires=docker.service",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=/bin/bash ${ACME_PATHS.script}`,
    "",
  ].join("\n");
}

export function renderAcmeTimer(): string {
  return [
    "[Unit]",
    "Description=Daily ACME renewal check for FreeSWITCH",
    "",
    "[Timer]",
    // Early morning with jitter: where the FreeSWITCH has no reloadcert, a renewal restarts the TLS
    // profiles (drained, within maintenance.drainSeconds), so pick an hour with few calls to wait for.
    "OnCalendar=*-*-* 04:00:00",
    "RandomizedDelaySec=1h",
    "Persistent=true",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}
