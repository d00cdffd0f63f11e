/**
 * Keeps FreeSWITCH's user cache honest. With `cacheable` on the user answers (api/directory.ts),
 * FreeSWITCH answers repeat lookups (REGISTER, INVITE, calls to the user) from memory, keyed by
 * key + user + domain (switch_xml.c switch_xml_user_cache), until the TTL runs out. So every
 * extension change that alters or removes an answer flushes exactly those users
 * (`xml_flush_cache id <user> <domain>`, mod_commands.c xml_flush_function) before the change is
 * reported done: a removed extension or an old password never authenticates from the cache after
 * the API said the change is applied.
 *
 * A flush that cannot be sent (ESL down, a timeout, a refusal) stays owed: the users are recorded
 * durably with the change itself (the store's pendingFlushes, written before the new answers are
 * served) and the flush is tried again with every later extension PUT and on every ESL connect.
 * Meanwhile the change is not reported done, and the TTL bounds how long an old entry can live.
 *
 * Every ESL (re)connect flushes the whole user cache (`xml_flush_cache` without arguments): the
 * API cannot know what FreeSWITCH cached while it was not listening (a change made while ESL was
 * down, a store restored from a backup, another API version), and the cost is one fresh lookup
 * per user.
 */
import type { EslLogger } from "./esl";
import { judgeReply } from "./eslReply";
import type { EslCommands } from "./sofia";

export const flushUserCommand = (id: string, domain: string) => `xml_flush_cache id ${id} ${domain}`;
export const FLUSH_ALL_COMMAND = "xml_flush_cache";

/**
 * How long after an answer went out the API assumes FreeSWITCH has cached it. Between the HTTP
 * response and the cache insert FreeSWITCH only writes the body of a few hundred bytes to a file,
 * parses it (mod_xml_curl) and merges the user (switch_xml_locate_user_merged), in the same
 * thread: milliseconds, not a second, unless that thread is starved. A flush sent before the
 * insert would find nothing and leave the old answer cached; the API cannot see the insert, so it
 * waits this long after the last old answer instead.
 */
export const DEFAULT_SETTLE_MS = 1000;

/** Where owed flushes are kept (the store): user ids. */
export interface PendingFlushes {
  get(): readonly string[];
  remove(ids: readonly string[]): Promise<void>;
}

export type FlushOutcome =
  | { readonly status: "none" }
  | { readonly status: "flushed"; readonly users: readonly string[] }
  /** Not flushed: `users` stay owed; `reason` says why (ESL state or FreeSWITCH's reply). */
  | { readonly status: "owed"; readonly users: readonly string[]; readonly reason: string };

export interface UserCacheOptions {
  readonly settleMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class UserCacheFlusher {
  /**
   * Per user owed in this process: when (performance.now()) a flush surely follows the insert of
   * the last old answer, and which change owed it (a flush that started before that change does
   * not settle it).
   */
  private readonly owedHere = new Map<string, { readonly settledAt: number; readonly change: number }>();
  private changes = 0;
  private readonly settleMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private flushedAll = false;

  constructor(
    private readonly esl: EslCommands,
    private readonly domain: string,
    private readonly logger: EslLogger,
    private readonly pending: PendingFlushes,
    options: UserCacheOptions = {},
  ) {
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** True once a whole-cache flush succeeded since this process started. */
  get flushedAllSinceStart(): boolean {
    return this.flushedAll;
  }

  /**
   * Notes a change that owes a flush of `ids` (already recorded in the store) and when the last old
   * answer for them went out (directory.lastCacheableAnswer, read right after the new answers are
   * served), so their flush waits until FreeSWITCH has cached it.
   */
  owe(ids: readonly string[], lastAnsweredAt: number): void {
    const change = ++this.changes;
    for (const id of ids) {
      const settledAt = Math.max(this.owedHere.get(id)?.settledAt ?? -Infinity, lastAnsweredAt + this.settleMs);
      this.owedHere.set(id, { settledAt, change });
    }
  }

  /** Flushes every owed user, one by one; those FreeSWITCH confirmed are no longer owed. */
  async flushOwed(): Promise<FlushOutcome> {
    const users = [...this.pending.get()];
    if (users.length === 0) return { status: "none" };
    await this.waitToSettle(users);
    const flushed: string[] = [];
    try {
      for (const id of users) {
        const command = flushUserCommand(id, this.domain);
        const verdict = judgeReply(command, await this.esl.api(command));
        if (verdict.kind === "refused") {
          this.logger.warn({ command, reply: verdict.reason }, "FreeSWITCH refused a user cache flush; it stays owed");
          return await this.owed(flushed, users, `FreeSWITCH answered "${verdict.reason}"`);
        }
        flushed.push(id);
      }
    } catch (error) {
      this.logger.warn({ users, err: (error as Error).message }, "user cache flush owed until ESL reconnects");
      return await this.owed(flushed, users, (error as Error).message);
    }
    await this.forget(flushed);
    this.logger.info({ users: flushed }, "FreeSWITCH user cache flushed");
    return { status: "flushed", users: flushed };
  }

  /** On every ESL (re)connect: the whole user cache, which settles every owed flush. */
  async resync(): Promise<void> {
    const owed = [...this.pending.get()];
    const changeBefore = this.changes;
    await this.waitToSettle(owed);
    const reply = await this.esl.api(FLUSH_ALL_COMMAND);
    const verdict = judgeReply(FLUSH_ALL_COMMAND, reply);
    if (verdict.kind === "refused") {
      this.logger.warn(
        { command: FLUSH_ALL_COMMAND, reply: verdict.reason },
        "FreeSWITCH refused the user cache flush; owed flushes stay owed",
      );
      return;
    }
    this.flushedAll = true;
    // A change made while this flush ran may have been cached after it: its own PUT flushes it.
    await this.forget(owed.filter((id) => (this.owedHere.get(id)?.change ?? 0) <= changeBefore));
    this.logger.info({ reply: reply.trim(), owed }, "FreeSWITCH user cache flushed on ESL connect");
  }

  private async owed(flushed: readonly string[], users: readonly string[], reason: string): Promise<FlushOutcome> {
    await this.forget(flushed);
    return { status: "owed", users: users.filter((u) => !flushed.includes(u)), reason };
  }

  private async forget(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) this.owedHere.delete(id);
    await this.pending.remove(ids);
  }

  private async waitToSettle(ids: readonly string[]): Promise<void> {
    let settled = -Infinity;
    for (const id of ids) settled = Math.max(settled, this.owedHere.get(id)?.settledAt ?? -Infinity);
    const wait = settled - performance.now();
    if (wait > 0) await this.sleep(wait);
  }
}
