/**
 * Answers to mod_xml_curl's directory requests, rendered by the shared renderer once per change
 * and kept as ready bytes: FreeSWITCH asks on every profile scan and on every registration, so
 * the request path is a map lookup.
 *
 * Requests, as mod_xml_curl posts them (form fields):
 *  - gateways (sofia.c, per profile on load/rescan): section=directory, purpose=gateways,
 *    profile=<profile>; tag_name/key_name/key_value are empty for `<domain name="all">`.
 *  - user lookups (switch_xml_locate_user: sip_auth, user_call, ...): section=directory,
 *    tag_name=domain, key_name=name, key_value=<domain>, key=id, user=<id>, domain=<domain>,
 *    action=sip_auth|user_call|..., plus sofia's sip_* fields.
 * Everything else gets FreeSWITCH's "not found" document.
 */
import { renderGatewaysDirectory, renderNotFound, renderUserDirectory } from "../sip/directory";
import type { ExtensionRecord, GatewaySpec } from "../sip/apiContract";

export type FormFields = Pick<URLSearchParams, "get">;

/**
 * Every field `answer` reads. The xml_curl endpoint decodes only these (FormFieldPicker), so a
 * field read in `answer` but missing here would always look absent; a test guards that.
 */
export const DIRECTORY_FIELDS: ReadonlySet<string> = new Set([
  "section",
  "purpose",
  "profile",
  "user",
  "key",
  "domain",
  "key_value",
]);

export interface RenderedAnswers {
  readonly gateways: ReadonlyMap<string, Buffer>;
  /** What a lookup for the configured domain, spelled exactly so, gets: `cacheable` when the cache is on. */
  readonly users: ReadonlyMap<string, Buffer>;
  /** The same users without `cacheable`, for lookups FreeSWITCH would cache under a key no flush names. */
  readonly uncachedUsers: ReadonlyMap<string, Buffer>;
}

export class DirectoryAnswers {
  readonly notFound = Buffer.from(renderNotFound());
  private gateways: ReadonlyMap<string, Buffer> = new Map();
  private users: ReadonlyMap<string, Buffer> = new Map();
  private uncachedUsers: ReadonlyMap<string, Buffer> = new Map();
  private readonly domainKey: string;
  /**
   * What a gateways request gets while this host of a standby pair is not active: each profile's
   * answer without gateways (as for a profile with no trunks), so a standby FreeSWITCH that
   * starts or rescans creates none and registers nothing. Always served outside a pair.
   */
  private readonly noGateways: ReadonlyMap<string, Buffer>;
  private gatewaysServed = true;
  /** When (performance.now()) each user's last cacheable answer was handed to the socket. */
  private readonly cacheableAnsweredAt = new Map<string, number>();

  /** `cacheMs` > 0: user answers carry `cacheable="<cacheMs>"` (FreeSWITCH's user cache). */
  constructor(
    private readonly domain: string,
    private readonly profiles: readonly string[],
    private readonly cacheMs = 0,
  ) {
    // Domain names compare case-insensitively (RFC 3261 host part).
    this.domainKey = domain.toLowerCase();
    this.noGateways = new Map(profiles.map((p) => [p, Buffer.from(renderGatewaysDirectory(domain, p, []))]));
  }

  /** Whether gateways requests get the trunks (true, the default) or none (a standby host). */
  serveGateways(served: boolean): void {
    this.gatewaysServed = served;
  }

  /**
   * Renders every answer for these sets without serving them yet. Throws (the renderer's
   * UnsafeXmlValueError) when a value cannot be written as XML, so a caller can refuse the change
   * before it is stored: a stored value that cannot render would break every later start.
   */
  render(trunks: readonly GatewaySpec[], extensions: readonly ExtensionRecord[]): RenderedAnswers {
    const uncachedUsers = new Map(extensions.map((e) => [e.id, Buffer.from(renderUserDirectory(this.domain, e))]));
    return {
      gateways: new Map(this.profiles.map((p) => [p, Buffer.from(renderGatewaysDirectory(this.domain, p, trunks))])),
      users:
        this.cacheMs > 0
          ? new Map(extensions.map((e) => [e.id, Buffer.from(renderUserDirectory(this.domain, e, this.cacheMs))]))
          : uncachedUsers,
      uncachedUsers,
    };
  }

  serve(answers: RenderedAnswers): void {
    this.gateways = answers.gateways;
    this.users = answers.users;
    this.uncachedUsers = answers.uncachedUsers;
  }

  rebuild(trunks: readonly GatewaySpec[], extensions: readonly ExtensionRecord[]): void {
    this.serve(this.render(trunks, extensions));
  }

  /**
   * The latest moment (performance.now()) a cacheable answer for any of `ids` went out, or
   * -Infinity: FreeSWITCH may still be about to cache an answer it received just before a change,
   * so a flush must come after it has had time to (api/userCache.ts).
   */
  lastCacheableAnswer(ids: Iterable<string>): number {
    let latest = -Infinity;
    for (const id of ids) latest = Math.max(latest, this.cacheableAnsweredAt.get(id) ?? -Infinity);
    return latest;
  }

  answer(form: FormFields): Buffer {
    if (form.get("section") !== "directory") return this.notFound;
    if (form.get("purpose") === "gateways")
      return (this.gatewaysServed ? this.gateways : this.noGateways).get(form.get("profile") ?? "") ?? this.notFound;
    const user = form.get("user");
    if (!user) return this.notFound;
    // Users are looked up by id; number-alias and other keys are not served.
    const key = form.get("key");
    if (key && key !== "id") return this.notFound;
    // Only this host's domain: a lookup for another domain must not find our users.
    const domain = form.get("domain") || form.get("key_value") || "";
    // FreeSWITCH caches under key + user + domain exactly as it asked (switch_xml.c
    // switch_xml_user_cache) and the flush names the configured spelling: any other spelling, or
    // a lookup whose key FreeSWITCH did not name, gets the answer uncached. Not-found answers are
    // never cached (FreeSWITCH caches only a user it found).
    if (key === "id" && domain === this.domain) {
      const answer = this.users.get(user);
      if (answer === undefined) return this.notFound;
      if (this.cacheMs > 0) this.cacheableAnsweredAt.set(user, performance.now());
      return answer;
    }
    if (domain.toLowerCase() !== this.domainKey) return this.notFound;
    return this.uncachedUsers.get(user) ?? this.notFound;
  }
}
