/**
 * Trunk alerts: Sofia's `sofia::gateway_state` events (ESL) turned into one webhook message when
 * a trunk goes down and one when it comes back, debounced: a trunk must stay down (or back up)
 * for `holdSeconds` before anyone is told, so a trunk that flaps faster than that sends nothing,
 * and one that flaps slower sends one message per change, never one per event.
 *
 * What "down" means depends on the trunk (events recorded from FreeSWITCH 1.10.12,
 * test/fixtures/freeswitch/events/):
 * - a REGISTER trunk (State other than NOREG) is down in FAILED, FAIL_WAIT, EXPIRED, TIMEOUT,
 *   UNREGED or DOWN, and up again in REGED; TRYING, REGISTER and UNREGISTER are on the way and
 *   change nothing. Its Ping-Status says nothing reliable (UP in FAILED right after a 403).
 * - an IP-auth trunk (NOREG) is down when its Ping-Status is DOWN, up when it is UP.
 * The message names the trunk, its state, since when, and the last reason FreeSWITCH gave (the
 * SIP status and phrase of the last answer while it was down, e.g. "403 Forbidden").
 *
 * The same webhook receives `standby-active` when a host of a standby pair takes over
 * (StandbyActiveAlert; server.ts sends it); on such a host only the active one reports trunks.
 */
import type { SofiaGateway } from "./freeswitchStatus";

export interface GatewayStateEvent {
  readonly gateway: string;
  readonly state: string;
  readonly pingStatus: string;
  /** SIP status of the answer that caused the event, if any (e.g. 403, 503). */
  readonly status?: number;
  readonly phrase?: string;
  /** When FreeSWITCH fired it (Event-Date-Timestamp, µs since the epoch), else when it arrived. */
  readonly at: Date;
}

/** Reads the headers of a `CUSTOM sofia::gateway_state` event (already URL-decoded); undefined for any other event. */
export function gatewayStateEvent(
  header: (name: string) => string | undefined,
  now: () => Date = () => new Date(),
): GatewayStateEvent | undefined {
  if (header("Event-Subclass") !== "sofia::gateway_state") return undefined;
  const gateway = header("Gateway");
  const state = header("State");
  if (!gateway || !state) return undefined;
  const micros = Number(header("Event-Date-Timestamp"));
  const status = Number(header("Status"));
  return {
    gateway,
    state,
    pingStatus: header("Ping-Status") ?? "",
    ...(Number.isFinite(status) && status > 0 ? { status } : {}),
    ...(header("Phrase") ? { phrase: header("Phrase") } : {}),
    at: Number.isFinite(micros) && micros > 0 ? new Date(micros / 1000) : now(),
  };
}

/**
 * The gateways as `sofia xmlstatus gateway` lists them, as events seen `at`: read on every ESL
 * (re)connect, so a trunk that went down or came back while the API was not listening (a
 * FreeSWITCH or API restart, a dropped connection) is still announced. Its "since" is then when
 * the API saw it, not when it happened. The `status` there is the field the events' Ping-Status
 * carries, so both judge a trunk alike. UNREGED is left out: it is also where every registering
 * gateway starts, before its first REGISTER (sofia.c), which a (re)connect right after FreeSWITCH
 * starts would read as a trunk gone down; an event that says UNREGED still counts.
 */
export function gatewayStateSnapshot(
  gateways: readonly Pick<SofiaGateway, "name" | "state" | "status">[],
  at: Date,
): GatewayStateEvent[] {
  return gateways
    .filter((g) => g.state !== "UNREGED")
    .map((g) => ({ gateway: g.name, state: g.state, pingStatus: g.status, at }));
}

const REGISTER_DOWN = new Set(["FAILED", "FAIL_WAIT", "EXPIRED", "TIMEOUT", "UNREGED", "DOWN"]);

/** "down", "up", or undefined while a registration is on its way. */
export function health(event: GatewayStateEvent): "down" | "up" | undefined {
  if (event.state === "NOREG")
    return event.pingStatus === "DOWN" ? "down" : event.pingStatus === "UP" ? "up" : undefined;
  if (event.state === "REGED") return "up";
  return REGISTER_DOWN.has(event.state) ? "down" : undefined;
}

export interface TrunkAlert {
  readonly event: "trunk-down" | "trunk-up";
  readonly trunk: string;
  /** Registration state, e.g. FAIL_WAIT or REGED (NOREG for an IP-auth trunk). */
  readonly state: string;
  readonly pingStatus: string;
  /** ISO time the trunk went down (trunk-down) or came back (trunk-up). */
  readonly since: string;
  /** trunk-up: when it had gone down. */
  readonly downSince?: string;
  /** The last reason FreeSWITCH gave while it was down, e.g. "403 Forbidden"; absent if none. */
  readonly reason?: string;
}

/**
 * A standby pair's takeover: this host became active (keepalived elected it; it holds the floating
 * addresses and starts the trunks). Sent once per change, as it is seen, with no hold time: it is
 * an event that already happened, not a state that may flap back unnoticed.
 */
export interface StandbyActiveAlert {
  readonly event: "standby-active";
  /** Which host of the pair is now active: "primary" or "standby". */
  readonly host: string;
  /** ISO time of the takeover, as keepalived's notify script wrote it. */
  readonly since: string;
  /** keepalived's reason, e.g. "MASTER". */
  readonly reason: string;
  /** The role this host had before: "standby" or "fault". */
  readonly previous: string;
}

/** Every message the alerts webhook receives. */
export type WebhookAlert = TrunkAlert | StandbyActiveAlert;

export interface AlerterOptions {
  readonly holdMs: number;
  readonly send: (alert: TrunkAlert) => Promise<void>;
  readonly log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

interface TrunkWatch {
  /** What the trunk is now, from the last event that said. */
  current: "down" | "up";
  /** Since when it has been `current`. */
  since: Date;
  state: string;
  pingStatus: string;
  reason?: string;
  /** What was last announced (a trunk starts as "up": its first failure is news, its first REGED is not). */
  announced: "down" | "up";
  downSince?: Date;
  timer?: NodeJS.Timeout;
}

export class TrunkAlerter {
  private readonly trunks = new Map<string, TrunkWatch>();

  constructor(private readonly options: AlerterOptions) {}

  handle(event: GatewayStateEvent): void {
    const now = health(event);
    const reason = event.status ? `${event.status}${event.phrase ? ` ${event.phrase}` : ""}` : undefined;
    let watch = this.trunks.get(event.gateway);
    if (!watch) {
      watch = { current: "up", since: event.at, state: event.state, pingStatus: event.pingStatus, announced: "up" };
      this.trunks.set(event.gateway, watch);
    }
    watch.state = event.state;
    watch.pingStatus = event.pingStatus;
    if (now === undefined) return;
    if (now === "down" && reason) watch.reason = reason;
    if (now === watch.current) return;
    watch.current = now;
    watch.since = event.at;
    clearTimeout(watch.timer);
    watch.timer = undefined;
    if (now === watch.announced) return; // back before anyone was told: nothing to say
    watch.timer = setTimeout(() => this.announce(event.gateway), this.options.holdMs);
    watch.timer.unref();
  }

  private announce(trunk: string): void {
    const watch = this.trunks.get(trunk);
    if (!watch || watch.current === watch.announced) return;
    watch.timer = undefined;
    watch.announced = watch.current;
    const alert: TrunkAlert =
      watch.current === "down"
        ? {
            event: "trunk-down",
            trunk,
            state: watch.state,
            pingStatus: watch.pingStatus,
            since: watch.since.toISOString(),
            ...(watch.reason ? { reason: watch.reason } : {}),
          }
        : {
            event: "trunk-up",
            trunk,
            state: watch.state,
            pingStatus: watch.pingStatus,
            since: watch.since.toISOString(),
            ...(watch.downSince ? { downSince: watch.downSince.toISOString() } : {}),
            ...(watch.reason ? { reason: watch.reason } : {}),
          };
    if (watch.current === "down") watch.downSince = watch.since;
    else {
      watch.downSince = undefined;
      watch.reason = undefined;
    }
    this.options.log.info(
      { ...alert },
      `trunk ${trunk} ${watch.current === "down" ? "down" : "back up"}: sending the alert`,
    );
    this.options
      .send(alert)
      .catch((error: Error) => this.options.log.warn({ trunk, err: error.message }, "trunk alert not delivered"));
  }

  stop(): void {
    for (const watch of this.trunks.values()) clearTimeout(watch.timer);
  }

  /**
   * Forgets every trunk and what it was waiting to announce: a host of a standby pair that stops
   * being active kills its gateways on purpose, which is no outage to report; when it is active
   * again its trunks start afresh, their first failure news again.
   */
  reset(): void {
    this.stop();
    this.trunks.clear();
  }
}

/** Posts an alert as JSON to the webhook, with the token as a bearer token; one retry after 5 s. */
export function webhookSender(
  url: string,
  token: string | undefined,
  retryMs = 5000,
): (alert: WebhookAlert) => Promise<void> {
  const post = async (alert: WebhookAlert) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(alert),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
  };
  return async (alert) => {
    try {
      await post(alert);
    } catch {
      await new Promise((r) => setTimeout(r, retryMs).unref());
      await post(alert);
    }
  };
}
