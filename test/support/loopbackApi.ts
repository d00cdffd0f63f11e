/**
 * Starts the real API (startApi, as the container does) on an ephemeral loopback port, with a
 * temporary store directory, fresh secrets and a fake FreeSWITCH event socket, and offers
 * requests shaped as the API's real clients send them.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { startApi, type RunningApi } from "../../api/server";
import {
  type ApiOptionalSecrets,
  type ApiSecrets,
  type ApiSettings,
  XML_CURL_PATH,
  XML_CURL_USER,
} from "../../sip/apiContract";
import { DEFAULT_DIRECTORY_CACHE_SECONDS } from "../../sip/schema";
import { startFakeFreeswitch, type FakeFreeswitch } from "./fakeFreeswitch";
import { xmlCurlForm } from "./xmlCurlForm";

export const DOMAIN = "sip.example.net";
export const PROFILES = ["external-ipv4", "internal"] as const;

export const newFernetKey = () => randomBytes(32).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");

export function newSecrets(): ApiSecrets {
  return {
    eslPassword: `esl-${randomBytes(8).toString("hex")}`,
    xmlCurlPassword: `curl-${randomBytes(8).toString("hex")}`,
    fernetKey: newFernetKey(),
    adminToken: `admin-${randomBytes(16).toString("hex")}`,
  };
}

export function settingsFor(dir: string, eslPort: number): ApiSettings {
  return {
    listen: { host: "127.0.0.1", port: 0 },
    metricsListen: { host: "127.0.0.1", port: 0 },
    domain: DOMAIN,
    // The stack's default: the API's tests run with FreeSWITCH's user cache on, as deployed.
    directoryCacheSeconds: DEFAULT_DIRECTORY_CACHE_SECONDS,
    profiles: [...PROFILES],
    esl: { host: "127.0.0.1", port: eslPort },
    xmlCurlUser: XML_CURL_USER,
    xmlCurlPath: XML_CURL_PATH,
    storePath: join(dir, "data", "store.json"),
    secretsDir: join(dir, "secrets"),
  };
}

export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
  json<T = any>(): T;
}

export interface Harness {
  readonly dir: string;
  readonly settings: ApiSettings;
  readonly secrets: ApiSecrets;
  readonly freeswitch: FakeFreeswitch;
  /** Every log line the API wrote, raw. */
  readonly logs: string[];
  readonly api: RunningApi;
  /** Stops the API; the store and the fake FreeSWITCH stay. */
  stop(): Promise<void>;
  /** Starts a new API on the same store, settings and secrets. */
  start(): Promise<void>;
  /** stop() then start(): a process restart. */
  restart(): Promise<void>;
  /** POSTs a form as mod_xml_curl does; `auth` defaults to FreeSWITCH's basic credentials. */
  xmlCurl(fields: Record<string, string>, auth?: string | null): Promise<Reply>;
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Reply>;
  close(): Promise<void>;
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

export { gatewaysRequest, xmlCurlForm } from "./xmlCurlForm";

/** sofia_reg.c's sip_auth lookup for a REGISTER from `user`. */
export const sipAuthRequest = (user: string, domain = DOMAIN) =>
  xmlCurlForm({
    tag_name: "domain",
    key_name: "name",
    key_value: domain,
    "Event-Calling-File": "sofia_reg.c",
    "Event-Calling-Function": "sofia_reg_parse_auth",
    action: "sip_auth",
    sip_profile: "internal",
    sip_user_agent: "Linphone/5.2",
    sip_auth_username: user,
    sip_auth_realm: domain,
    sip_auth_nonce: "5e1e0e0c-7b0b-4b7b-9d7b-0c0c0c0c0c0c",
    sip_auth_uri: `sip:${domain}`,
    sip_contact_user: user,
    sip_contact_host: "192.0.2.10",
    sip_to_user: user,
    sip_to_host: domain,
    sip_via_protocol: "udp",
    sip_from_user: user,
    sip_from_host: domain,
    sip_call_id: "a84b4c76e66710",
    sip_request_host: domain,
    sip_auth_qop: "auth",
    sip_auth_cnonce: "0a4f113b",
    sip_auth_nc: "00000001",
    sip_auth_response: "6629fae49393a05397450978507c4ef1",
    sip_auth_method: "REGISTER",
    key: "id",
    user,
    domain,
    ip: "192.0.2.10",
  });

export interface HarnessOptions {
  readonly eslPassword?: string;
  readonly alerts?: ApiSettings["alerts"];
  readonly alertsWebhookToken?: string;
  /** The ESL client's command timeout; 2 s unless a test needs the API's own. */
  readonly eslCommandTimeoutMs?: number;
  readonly directoryCacheSeconds?: number;
  /** The user cache flush's settle time (api/userCache.ts); tests keep it short. */
  readonly userCacheSettleMs?: number;
  /** A host of a standby pair: where its role file is and which host it is. */
  readonly ha?: ApiSettings["ha"];
  /** The role file's backstop poll (api/haRole.ts); 1 s unless a test needs otherwise. */
  readonly haRolePollMs?: number;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "config-api-test-"));
  const secrets: ApiSecrets & ApiOptionalSecrets = {
    ...newSecrets(),
    ...(options.alertsWebhookToken ? { alertsWebhookToken: options.alertsWebhookToken } : {}),
  };
  const freeswitch = await startFakeFreeswitch(options.eslPassword ?? secrets.eslPassword);
  const settings: ApiSettings = {
    ...settingsFor(dir, freeswitch.port),
    ...(options.alerts ? { alerts: options.alerts } : {}),
    ...(options.directoryCacheSeconds !== undefined ? { directoryCacheSeconds: options.directoryCacheSeconds } : {}),
    ...(options.ha ? { ha: options.ha } : {}),
  };
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const start = () =>
    startApi({
      settings,
      secrets,
      logger: { level: "debug", stream },
      esl: { backoff: { initialMs: 20, maxMs: 200 }, commandTimeoutMs: options.eslCommandTimeoutMs ?? 2000 },
      userCache: { settleMs: options.userCacheSettleMs ?? 50 },
      ...(options.haRolePollMs ? { haRole: { pollMs: options.haRolePollMs } } : {}),
    });
  let api = await start();

  const reply = async (response: Response): Promise<Reply> => {
    const body = await response.text();
    return { status: response.status, body, headers: response.headers, json: () => JSON.parse(body) };
  };

  const harness: Harness = {
    dir,
    settings,
    secrets,
    freeswitch,
    logs,
    get api() {
      return api;
    },
    async stop() {
      await api.close();
    },
    async start() {
      api = await start();
    },
    async restart() {
      await api.close();
      api = await start();
    },
    async xmlCurl(fields, auth = basic(XML_CURL_USER, secrets.xmlCurlPassword)) {
      const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
      if (auth !== null) headers.Authorization = auth;
      return reply(
        await fetch(`${api.url}${XML_CURL_PATH}`, {
          method: "POST",
          headers,
          body: new URLSearchParams(fields).toString(),
        }),
      );
    },
    async request(method, path, { token, body, headers = {} } = {}) {
      const all: Record<string, string> = { ...headers };
      if (token !== undefined) all.Authorization = `Bearer ${token}`;
      if (body !== undefined) all["Content-Type"] ??= "application/json";
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      return reply(await fetch(`${api.url}${path}`, { method, headers: all, body: payload }));
    },
    async close() {
      await api.close();
      await freeswitch.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
