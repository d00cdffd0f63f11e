/**
 * Certificates for SIP over TLS (agent.pem) and WebRTC over WSS (wss.pem). FreeSWITCH reads both,
 * certificate and key concatenated, from its tls directory, and only when a profile starts.
 *
 * ACME: acme.sh (a well-kept client, run as a container) obtains and renews the certificate on the
 * host; a systemd timer runs the renewal job daily, and the job restarts the TLS profiles only
 * when the certificate actually changed. Self-signed: the stack makes the certificate
 * (@pulumi/tls) and pushes it like any other secret file.
 */
import { claimedHostname, type StackModel } from "../model";
import { FREESWITCH_CONTAINER, ifContainerRunning, reloadCommand } from "../reload";
import { HOST_ROOT } from "./cloudInit";

export const TLS_HOST_DIR = `${HOST_ROOT}/freeswitch/conf/tls`;
export const ACME_DIR = `${HOST_ROOT}/tls`;
export const ACME_PATHS = {
  script: `${ACME_DIR}/renew.sh`,
  env: `${ACME_DIR}/acme.env`,
  state: `${ACME_DIR}/acme`,
  service: "/etc/systemd/system/telephony-acme.service",
  timer: "/etc/systemd/system/telephony-acme.timer",
} as const;

/**
 * The CA list Sofia loads beside agent.pem (tls-cert-dir/cafile.pem). When it is missing, Sofia
 * generates tls.pem in the tree instead, which fails on the read-only mount and takes the profile down.
 */
export const CA_FILE = "cafile.pem";

/** Profiles that serve TLS or WSS and so must restart to pick up a new certificate. */
export function tlsProfiles(model: StackModel): string[] {
  return model.profiles.filter((p) => p.tlsPort !== undefined || p.wssPort !== undefined).map((p) => p.name);
}

/** agent.pem and wss.pem have the same content: certificate chain, then private key. */
export function certificateBundle(certificatePem: string, privateKeyPem: string): string {
  const nl = (s: string) => (s.endsWith("\n") ? s : `${s}\n`);
  return nl(certificatePem) + nl(privateKeyPem);
}

/** The renewal job: issue or renew, then install and restart the TLS profiles only on change. */
export function renderAcmeRenewScript(model: StackModel): string {
  const { tls } = model;
  // Only a stack that owns the name asks ACME for it (host.hostnameOwnedBy; the checks say so first).
  const host = claimedHostname(model);
  if (!host) throw new Error(`stack ${model.stack} does not own a host name (host.hostname, host.hostnameOwnedBy): no ACME certificate to ask for`);
  const http = tls.challenge === "http-01";
  const challenge = http ? "--standalone --httpport 80" : "--dns dns_hetznercloud";
  const restart = reloadCommand({ kind: "tls", profiles: tlsProfiles(model), drainSeconds: model.maintenance.drainSeconds }, { ufwScript: "" });
  return [
    "#!/usr/bin/env bash",
    "# Rendered by the stack: obtains/renews the TLS certificate for FreeSWITCH (see sip/render/tls.ts).",
    "set -euo pipefail",
    "umask 077",
    `install -d -m 0700 ${TLS_HOST_DIR} ${ACME_PATHS.state}`,
    ...(http
      ? [
          "# http-01: port 80 is admitted by UFW only while the ACME server validates.",
          "ufw allow proto tcp to any port 80 comment 'ACME http-01 (temporary)' >/dev/null",
          "trap 'ufw delete allow proto tcp to any port 80 >/dev/null' EXIT",
        ]
      : []),
    `acme() { docker run --rm --network host -v ${ACME_PATHS.state}:/acme.sh --env-file ${ACME_PATHS.env} ${tls.clientImage} --home /acme.sh "$@"; }`,
    "rc=0",
    // acme.sh exits 2 when the certificate is not yet due for renewal: that is success.
    `acme --issue ${challenge} -d ${host} --keylength ec-256 --server ${tls.acmeServer} --accountemail ${tls.email ?? ""} || rc=$?`,
    'if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then echo "ACME issue/renew failed (exit $rc)" >&2; exit "$rc"; fi',
    `live=${ACME_PATHS.state}/${host}_ecc`,
    `new=$(mktemp ${TLS_HOST_DIR}/.pem.XXXXXX)`,
    'cat "$live/fullchain.cer" "$live/' + host + '.key" > "$new"',
    // The issuer chain as Sofia's CA list; written on every run, so a tree from before it gets one too.
    `cp "$live/ca.cer" ${TLS_HOST_DIR}/${CA_FILE}.new && mv -f ${TLS_HOST_DIR}/${CA_FILE}.new ${TLS_HOST_DIR}/${CA_FILE}`,
    `if cmp -s "$new" ${TLS_HOST_DIR}/agent.pem; then rm -f "$new"; echo "certificate unchanged"; exit 0; fi`,
    `cp "$new" ${TLS_HOST_DIR}/wss.pem.new && mv -f ${TLS_HOST_DIR}/wss.pem.new ${TLS_HOST_DIR}/wss.pem`,
    `mv -f "$new" ${TLS_HOST_DIR}/agent.pem`,
    "# Sofia loads certificates when a profile starts: restart only the profiles that serve TLS/WSS,",
    "# once no call is up (or at the drain's bound).",
    ifContainerRunning(FREESWITCH_CONTAINER, restart),
    'echo "certificate installed"',
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
    // Early morning with jitter: a renewal restarts the TLS profiles (drained, within
    // maintenance.drainSeconds), so pick an hour with few calls to wait for.
    "OnCalendar=*-*-* 04:00:00",
    "RandomizedDelaySec=1h",
    "Persistent=true",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}
