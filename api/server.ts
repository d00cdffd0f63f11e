/**
 * The config API as one HTTP server (fastify): mod_xml_curl's directory endpoint, the declarative
 * trunk and extension endpoints, the credentials endpoint, health and readiness. `startApi` is
 * what the container runs (via main.ts) and what the tests start on an ephemeral loopback port.
 */
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { dirname } from "node:path";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { z } from "zod";
import {
  type ApiOptionalSecrets,
  type ApiSecrets,
  type ApiSettings,
  type ExtensionRecord,
  extensionSetSchema,
  trunkSetSchema,
} from "../sip/apiContract";
import { allows, BasicCredentials, BearerTokens, type Principal } from "./auth";
import { diffSets, killgw, planTrunkChange, rescan } from "./changes";
import { DirectoryAnswers } from "./directory";
import {
  gatewayStateEvent,
  gatewayStateSnapshot,
  TrunkAlerter,
  webhookSender,
  type StandbyActiveAlert,
} from "./alerts";
import { parseSofiaGatewaysXmlStatus } from "./freeswitchStatus";
import { EslClient } from "./esl";
import { HaRoleWatcher } from "./haRole";
import { createApiMetrics, type ApiMetrics } from "./metrics";
import { CREDENTIALS_READ, duplicates } from "./model";
import { createSealer } from "./sealer";
import { UnsafeXmlValueError } from "../sip/directory";
import { SofiaReloader, type ReloadOutcome } from "./sofia";
import type { HaState } from "../sip/standby";
import { formatKey } from "../sip/problems";
import { Store, type StoreState } from "./store";
import { UserCacheFlusher, type FlushOutcome } from "./userCache";
import { xmlCurlEndpoint } from "./xmlCurlEndpoint";

export interface StartOptions {
  readonly settings: ApiSettings;
  readonly secrets: ApiSecrets & ApiOptionalSecrets;
  readonly logger?: { readonly level?: string; readonly stream?: NodeJS.WritableStream };
  readonly esl?: { readonly backoff?: { initialMs: number; maxMs: number }; readonly commandTimeoutMs?: number };
  /** How long a flush waits after an old answer went out (api/userCache.ts DEFAULT_SETTLE_MS). */
  readonly userCache?: { readonly settleMs?: number };
  /** The role file's backstop poll (api/haRole.ts, 1 s); with `settings.ha` only. */
  readonly haRole?: { readonly pollMs?: number };
}

export interface RunningApi {
  readonly app: FastifyInstance;
  /** e.g. http://127.0.0.1:8001 */
  readonly url: string;
  readonly esl: EslClient;
  readonly metrics: ApiMetrics;
  /** With `settings.ha`: this host's role, as the API follows it. */
  readonly haRole: HaRoleWatcher | undefined;
  /** The /metrics-only listener's URL, e.g. http://[::]:9282; undefined if it could not listen (logged). */
  readonly metricsUrl: string | undefined;
  close(): Promise<void>;
}

const BODY_LIMIT = 4 * 1024 * 1024;
/** Retry-After of a 503 for an unflushed user cache: about how soon an ESL reconnect is tried. */
const FLUSH_RETRY_AFTER_SECONDS = 5;

/** Log redaction: belt and braces, since no handler logs headers or bodies in the first place. */
const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.body",
  "res.headers",
  "body",
  "password",
  "*.password",
  "passwordSealed",
  "*.passwordSealed",
];

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Names each problem by its key, e.g. `[1].password (trunk "oneandone")`; never quotes a value. */
const invalid = (what: string, error: z.ZodError, body: unknown) =>
  new HttpError(
    400,
    `${what}: ${error.issues
      .map((i) => {
        const entry =
          Array.isArray(body) && typeof i.path[0] === "number"
            ? (body[i.path[0]] as { name?: unknown; id?: unknown } | undefined)
            : undefined;
        const label =
          typeof entry?.name === "string"
            ? ` (trunk "${entry.name}")`
            : typeof entry?.id === "string"
              ? ` (extension "${entry.id}")`
              : "";
        return `${i.path.length ? `${formatKey(i.path)}${label}: ` : ""}${i.message}`;
      })
      .join("; ")}`,
  );

/** Canonical form for comparing extensions regardless of key order. */
const canonical = (e: ExtensionRecord) => JSON.stringify(e, Object.keys(e).sort());

export async function startApi(options: StartOptions): Promise<RunningApi> {
  const { settings, secrets } = options;
  const directory = new DirectoryAnswers(settings.domain, settings.profiles, settings.directoryCacheSeconds * 1000);
  const xmlCurl = xmlCurlEndpoint({
    path: settings.xmlCurlPath,
    credentials: new BasicCredentials(settings.xmlCurlUser, secrets.xmlCurlPassword),
    directory,
    bodyLimit: BODY_LIMIT,
    log: () => app.log,
    answered: (status, seconds) => observeXmlCurl(status, seconds),
  });
  const app: FastifyInstance = Fastify({
    logger: {
      level: options.logger?.level ?? "info",
      redact: { paths: REDACT, censor: "[redacted]" },
      ...(options.logger?.stream ? { stream: options.logger.stream } : {}),
    },
    bodyLimit: BODY_LIMIT,
    // mod_xml_curl's requests are answered before fastify sees them (see xmlCurlEndpoint.ts).
    serverFactory: (handler) =>
      createServer((req, res) => {
        if (!xmlCurl(req, res)) handler(req, res);
      }),
  });

  const sealer = createSealer(secrets.fernetKey);
  await mkdir(dirname(settings.storePath), { recursive: true });
  const opened = await Store.open(settings.storePath, sealer);
  const store = opened.store;
  if (opened.resealed > 0)
    app.log.info(
      { passwords: opened.resealed },
      "store re-sealed with the current fernet key (the previous key is no longer needed)",
    );
  if (opened.strayTempFiles.length > 0)
    app.log.warn({ files: opened.strayTempFiles }, "removed temporary store files left by an interrupted write");
  app.log.info(
    {
      storePath: settings.storePath,
      existed: opened.existed,
      trunks: store.state.trunks.length,
      extensions: store.state.extensions.length,
    },
    "store loaded",
  );

  const tokens = new BearerTokens(secrets.adminToken);
  const refreshAnswers = () => {
    directory.rebuild(store.state.trunks, store.state.extensions);
    tokens.setExtensions(store.state.extensions);
  };
  /** Renders the answers a change would serve before anything is stored: what cannot render is refused. */
  const renderOrRefuse = (trunks: StoreState["trunks"], extensions: StoreState["extensions"]) => {
    try {
      return directory.render(trunks, extensions);
    } catch (err) {
      if (err instanceof UnsafeXmlValueError)
        throw new HttpError(400, `cannot be served to FreeSWITCH: ${err.message}`);
      throw err;
    }
  };
  refreshAnswers();

  const eslLog = app.log.child({ component: "esl" });
  const alertsLog = app.log.child({ component: "alerts" });
  const sendAlert = settings.alerts ? webhookSender(settings.alerts.webhook, secrets.alertsWebhookToken) : undefined;
  const alerter =
    settings.alerts && sendAlert
      ? new TrunkAlerter({ holdMs: settings.alerts.holdSeconds * 1000, send: sendAlert, log: alertsLog })
      : undefined;

  /**
   * A standby pair: only the active host runs the trunks (api/haRole.ts follows role.json). Gateway
   * requests get none while it is not active, a change to active rescans every profile (the
   * gateways start and register at once), a change away from it kills each gateway, and ESL
   * (re)connects bring FreeSWITCH back in line with the role. Outside a pair: always active.
   */
  const haLog = app.log.child({ component: "ha" });
  const roleWatcher = settings.ha
    ? new HaRoleWatcher({
        ha: settings.ha,
        log: haLog,
        onChange: (next, previous) => void followRole(next, previous),
        ...(options.haRole?.pollMs ? { pollMs: options.haRole.pollMs } : {}),
      })
    : undefined;
  const isActive = () => roleWatcher === undefined || roleWatcher.current.role === "active";
  const killEveryGateway = () => store.state.trunks.map((g) => killgw(g.profile, g.name));
  const logReload = (what: string, outcome: ReloadOutcome) => {
    if (outcome.status === "refused")
      haLog.warn({ refused: outcome.refused }, `${what}: FreeSWITCH refused some commands, they stay pending`);
    else if (outcome.status === "deferred") haLog.warn({}, `${what}: deferred until ESL reconnects`);
    else haLog.info({ commands: outcome.commands, status: outcome.status }, what);
  };
  const followRole = (next: HaState, previous: HaState): Promise<void> => {
    const active = next.role === "active";
    // What FreeSWITCH gets from now on, whatever makes it ask (our commands, a restart of its own).
    directory.serveGateways(active);
    if (active) announceTakeover(next, previous);
    // Gateways killed on purpose are no outage; the trunks' events are heard again once active.
    else alerter?.reset();
    // After the trunk writes before it, so each sees the role it runs under.
    return serialized(async () => {
      if (active) logReload("became active: gateways started", await reloader.apply(settings.profiles.map(rescan)));
      else if (previous.role === "active")
        logReload(`became ${next.role}: gateways stopped`, await reloader.apply(killEveryGateway()));
    }).catch((error: Error) => haLog.error({ err: error.message }, "following the role change failed"));
  };
  /**
   * On every ESL (re)connect of a host that is not active: FreeSWITCH may run gateways it started
   * while this host was active (a step-down missed while the API or ESL was down): stop them.
   */
  const stopGatewaysUnlessActive = async () => {
    if (isActive()) return;
    await serialized(async () => {
      if (!isActive())
        logReload("ESL connected while not active: gateways stopped", await reloader.apply(killEveryGateway()));
    });
  };
  const announceTakeover = (next: HaState, previous: HaState) => {
    if (!sendAlert) return;
    const alert: StandbyActiveAlert = {
      event: "standby-active",
      host: settings.ha?.host ?? next.host,
      since: next.since,
      reason: next.reason,
      previous: previous.role,
    };
    alertsLog.info({ ...alert }, "this host took over the standby pair: sending the alert");
    sendAlert(alert).catch((error: Error) =>
      alertsLog.warn({ err: error.message }, "standby-active alert not delivered"),
    );
  };
  const esl: EslClient = new EslClient({
    host: settings.esl.host,
    port: settings.esl.port,
    password: secrets.eslPassword,
    logger: eslLog,
    onConnect: async () => {
      // What the gateway events said while nobody listened is read back from the gateways' state.
      const readBack = async (to: TrunkAlerter) => {
        // A host that is not active runs no trunks of its own: nothing there to report.
        if (!isActive()) return;
        const gateways = parseSofiaGatewaysXmlStatus(await esl.api("sofia xmlstatus gateway"));
        for (const event of gatewayStateSnapshot(gateways, new Date())) to.handle(event);
      };
      // The user cache first: whatever FreeSWITCH cached while the API was not listening goes.
      await userCache.resync();
      await Promise.all([reloader.resync().then(stopGatewaysUnlessActive), alerter ? readBack(alerter) : undefined]);
    },
    ...(alerter
      ? {
          events: {
            subscribe: "CUSTOM sofia::gateway_state",
            onEvent: (header: (name: string) => string | undefined) => {
              const event = gatewayStateEvent(header);
              if (event && isActive()) alerter.handle(event);
            },
          },
        }
      : {}),
    ...options.esl,
  });
  const metrics: ApiMetrics = createApiMetrics(
    esl,
    settings.profiles,
    app.log.child({ component: "metrics" }),
    roleWatcher && settings.ha ? { host: settings.ha.host, role: () => roleWatcher.current.role } : undefined,
  );
  const observeXmlCurl = metrics.routeObserver("POST", settings.xmlCurlPath);
  // Routes by pattern (an extension id never becomes a label); anything unrouted counts as one.
  app.addHook("onResponse", async (request, reply) => {
    metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? "unmatched",
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  const reloader = new SofiaReloader(esl, settings.profiles, eslLog, {
    get: () => store.state.pendingKills,
    add: (kills) =>
      store.update((state) => ({ ...state, pendingKills: [...new Set([...state.pendingKills, ...kills])] })),
    remove: (kills) =>
      store.update((state) => ({ ...state, pendingKills: state.pendingKills.filter((k) => !kills.includes(k)) })),
  });

  const userCache = new UserCacheFlusher(
    esl,
    settings.domain,
    eslLog,
    {
      get: () => store.state.pendingFlushes,
      remove: (ids) =>
        store.update((state) => ({ ...state, pendingFlushes: state.pendingFlushes.filter((id) => !ids.includes(id)) })),
    },
    options.userCache,
  );
  /**
   * Whether FreeSWITCH may hold answers of ours in its user cache: always with the cache on; with
   * it off only until the first whole-cache flush (a previous run may have had it on).
   */
  const cacheMayHoldAnswers = () => settings.directoryCacheSeconds > 0 || !userCache.flushedAllSinceStart;

  // Writes run one at a time: each diff must see the state the previous write left.
  let writes: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const run = writes.then(work, work);
    writes = run.catch(() => undefined);
    return run;
  };

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, "request failed");
    else request.log.info({ status, reason: error.message }, "request rejected");
    return reply.code(status).send({ error: status >= 500 ? "internal error" : error.message });
  });

  const requirePrincipal = (request: FastifyRequest, reply: FastifyReply): Principal => {
    const principal = tokens.identify(request.headers.authorization);
    if (!principal) {
      reply.header("WWW-Authenticate", 'Bearer realm="telephony-config-api"');
      throw new HttpError(401, "a valid bearer token is required");
    }
    return principal;
  };
  const requireAdmin = (request: FastifyRequest, reply: FastifyReply) => {
    if (requirePrincipal(request, reply).kind !== "admin")
      throw new HttpError(403, "this endpoint needs the admin token");
  };

  // Probes run every few seconds: keep them out of the info log.
  app.get("/healthz", { logLevel: "warn" }, async () => ({ status: "ok" }));
  app.get("/readyz", { logLevel: "warn" }, async () => ({
    status: "ready",
    store: "loaded",
    esl: esl.state,
    trunks: store.state.trunks.length,
    extensions: store.state.extensions.length,
    ...(roleWatcher ? { ha: { ...roleWatcher.current } } : {}),
  }));

  // Prometheus scrapes; FreeSWITCH is read over ESL on each (api/metrics.ts).
  app.get("/metrics", { logLevel: "warn" }, async (_request, reply) => {
    const body = await metrics.render();
    return reply.type(metrics.contentType).send(body);
  });

  app.put("/api/v1/sip/trunks", async (request, reply) => {
    requireAdmin(request, reply);
    const parsed = trunkSetSchema.safeParse(request.body);
    if (!parsed.success) throw invalid("invalid trunk set", parsed.error, request.body);
    const next = parsed.data;
    const unknownProfile = next.filter((g) => !settings.profiles.includes(g.profile));
    if (unknownProfile.length > 0) {
      throw new HttpError(
        400,
        `unknown profile: ${unknownProfile.map((g) => `${g.name} → ${g.profile}`).join(", ")}; this host has ${settings.profiles.join(", ")}`,
      );
    }
    // Sofia keys gateways by name across all profiles: a repeated name makes killgw ambiguous.
    const repeated = new Set(duplicates(next.map((g) => g.name.toLowerCase())));
    if (repeated.size > 0) {
      const names = [...new Set(next.filter((g) => repeated.has(g.name.toLowerCase())).map((g) => g.name))];
      throw new HttpError(400, `gateway names must be unique across all profiles; repeated: ${names.join(", ")}`);
    }
    return serialized(async () => {
      const plan = planTrunkChange(store.state.trunks, next);
      if (plan.commands.length > 0) {
        const answers = renderOrRefuse(next, store.state.extensions);
        await store.update((state) => ({ ...state, trunks: next }));
        directory.serve(answers);
      }
      // A host that is not active only stores the set: its gateways start when it becomes active.
      const reload: ReloadOutcome = isActive()
        ? await reloader.apply(plan.commands)
        : { status: plan.commands.length > 0 ? "inactive" : "none", commands: [] };
      const summary = { added: plan.added, changed: plan.changed, removed: plan.removed, reload: reload.status };
      if (reload.refused)
        request.log.warn(
          { ...summary, refused: reload.refused },
          "trunks replaced; FreeSWITCH refused some commands, they stay pending",
        );
      else request.log.info(summary, "trunks replaced");
      return { added: plan.added, changed: plan.changed, removed: plan.removed, unchanged: plan.unchanged, reload };
    });
  });

  app.put("/api/v1/sip/extensions", async (request, reply) => {
    requireAdmin(request, reply);
    const parsed = extensionSetSchema.safeParse(request.body);
    if (!parsed.success) throw invalid("invalid extension set", parsed.error, request.body);
    const next = parsed.data;
    const repeatedIds = duplicates(next.map((e) => e.id));
    if (repeatedIds.length > 0)
      throw new HttpError(400, `extension ids must be unique; repeated: ${repeatedIds.join(", ")}`);
    const tokenHashes = next.flatMap((e) => (e.apiTokenSha256 ? [e.apiTokenSha256] : []));
    if (
      duplicates(tokenHashes).length > 0 ||
      tokenHashes.some((h) => tokens.identify(`Bearer ${h}`)?.kind === "admin")
    ) {
      throw new HttpError(400, "each extension needs its own API token (apiTokenSha256 repeated)");
    }
    return serialized(async () => {
      const change = diffSets(
        store.state.extensions,
        next,
        (e) => e.id,
        (a, b) => canonical(a) === canonical(b),
      );
      if (change.added.length + change.changed.length + change.removed.length > 0) {
        const answers = renderOrRefuse(store.state.trunks, next);
        // An added user had no answer to cache (not-found answers are not cached); a changed or
        // removed one may have. Owed in the same write as the change: no crash can separate them.
        const stale = cacheMayHoldAnswers() ? [...change.changed, ...change.removed] : [];
        await store.update((state) => ({
          ...state,
          extensions: next,
          pendingFlushes: [...new Set([...state.pendingFlushes, ...stale])],
        }));
        directory.serve(answers);
        if (stale.length > 0) userCache.owe(stale, directory.lastCacheableAnswer(stale));
        tokens.setExtensions(next);
      }
      // Flushes owed by this change and by earlier ones that could not be sent.
      const flush: FlushOutcome = await userCache.flushOwed();
      if (flush.status === "owed") {
        request.log.warn(
          {
            added: change.added,
            changed: change.changed,
            removed: change.removed,
            owed: flush.users,
            reason: flush.reason,
          },
          "extensions stored; FreeSWITCH's user cache not flushed yet",
        );
        // Not done: 503 with Retry-After, so the deploy's curl tries again (and fails the step if
        // it never succeeds). The new answers are already served; the PUT, repeated, flushes.
        return reply
          .code(503)
          .header("Retry-After", String(FLUSH_RETRY_AFTER_SECONDS))
          .send({
            error:
              `extensions stored and served to new lookups, but FreeSWITCH's user cache still holds entries for ${flush.users.join(", ")} ` +
              `that could authenticate with their old credentials ${settings.directoryCacheSeconds > 0 ? `for up to ${settings.directoryCacheSeconds} s` : "until the TTL an earlier run gave them runs out"} (${flush.reason}); ` +
              "the flush is retried on the next ESL connect and with every PUT: repeat this PUT to confirm",
            ...change,
            owedFlushes: flush.users,
          });
      }
      // Nothing to reload: FreeSWITCH asks for a user on every authentication it has not cached.
      const flushed = flush.status === "flushed" ? flush.users : [];
      request.log.info(
        { added: change.added, changed: change.changed, removed: change.removed, flushed },
        "extensions replaced",
      );
      return { ...change, flushed };
    });
  });

  app.get<{ Params: { id: string } }>("/api/v1/sip/extensions/:id/config", async (request, reply) => {
    const principal = requirePrincipal(request, reply);
    const { id } = request.params;
    if (!allows(principal, CREDENTIALS_READ, id))
      throw new HttpError(
        403,
        `reading extension credentials needs the ${CREDENTIALS_READ} permission for extension ${id}`,
      );
    const extension = store.state.extensions.find((e) => e.id === id);
    if (!extension) throw new HttpError(404, `no extension ${id}`);
    reply.header("Cache-Control", "no-store");
    return {
      id: extension.id,
      displayName: extension.displayName,
      outboundCallerId: extension.outboundCallerId,
      context: extension.context,
      permissions: extension.permissions,
      sip: { domain: settings.domain, username: extension.id, password: extension.password },
    };
  });

  if (roleWatcher) directory.serveGateways((await roleWatcher.start()).role === "active");
  await app.listen({ host: settings.listen.host, port: settings.listen.port });
  const metricsListener = await listenForMetrics(metricsServer(metrics), settings.metricsListen, app.log);
  esl.start();
  const url = (server: Server, host: string) => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  };

  return {
    app,
    url: url(app.server, settings.listen.host),
    esl,
    metrics,
    haRole: roleWatcher,
    metricsUrl: metricsListener ? url(metricsListener.server, metricsListener.host) : undefined,
    close: async () => {
      esl.stop();
      alerter?.stop();
      roleWatcher?.stop();
      if (metricsListener) {
        metricsListener.server.closeAllConnections();
        await new Promise<void>((resolve) => metricsListener.server.close(() => resolve()));
      }
      await app.close();
    },
  };
}

/**
 * The listener Prometheus scrapes from the admin ranges: GET (or HEAD) /metrics and nothing else,
 * so opening its port exposes no write endpoint, no xml_curl and no credentials. A plain node:http
 * server: no router, no body parsing, no logging per request.
 */
function metricsServer(metrics: ApiMetrics): Server {
  return createServer((req, res) => {
    const started = performance.now();
    const path = (req.url ?? "").split("?")[0];
    const route = path === "/metrics" ? "/metrics" : "unmatched";
    res.once("finish", () =>
      metrics.observeRequest(req.method ?? "", route, res.statusCode, (performance.now() - started) / 1000),
    );
    req.resume();
    const plain = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": "text/plain; charset=utf-8",
        "content-length": Buffer.byteLength(text),
        ...headers,
      });
      res.end(text);
    };
    if (route !== "/metrics") return plain(404, "only /metrics is served here\n");
    if (req.method !== "GET" && req.method !== "HEAD") return plain(405, "GET /metrics\n", { allow: "GET, HEAD" });
    metrics.render().then(
      (body) => {
        res.writeHead(200, { "content-type": metrics.contentType, "content-length": Buffer.byteLength(body) });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      () => plain(500, "metrics failed\n"),
    );
  });
}

/**
 * Listens on `host:port`; "::" takes IPv4 too (dual stack) and falls back to 0.0.0.0 where the
 * host has no IPv6. A listener that cannot start is logged and left out: FreeSWITCH's directory
 * (the API's main job) must not stop because the metrics port is taken.
 */
async function listenForMetrics(
  server: Server,
  at: { host: string; port: number },
  log: { error(obj: object, msg: string): void; info(obj: object, msg: string): void },
): Promise<{ server: Server; host: string } | undefined> {
  const attempt = (host: string) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port: at.port, ipv6Only: false }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  const hosts = at.host === "::" ? ["::", "0.0.0.0"] : [at.host];
  for (const [i, host] of hosts.entries()) {
    try {
      await attempt(host);
      server.on("error", (error: Error) => log.error({ err: error.message }, "the /metrics listener failed"));
      log.info({ host, port: (server.address() as { port: number }).port }, "serving /metrics");
      return { server, host };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (i + 1 < hosts.length && (code === "EAFNOSUPPORT" || code === "EADDRNOTAVAIL")) continue;
      log.error(
        { host, port: at.port, code, err: (error as Error).message },
        "cannot serve /metrics on its own listener; the API runs on without it",
      );
      return undefined;
    }
  }
  return undefined;
}
