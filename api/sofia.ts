/**
 * Applies trunk changes to the running Sofia profiles over ESL, and re-syncs on every ESL
 * (re)connect: FreeSWITCH may have loaded its profiles while the API was down (its xml_curl
 * request then got no gateways), so each connect rescans every profile. Every `killgw` is
 * recorded durably before it is sent and cleared only once FreeSWITCH accepted it (or said it runs
 * no such gateway); whatever is still recorded (FreeSWITCH was down or refused it, or the API
 * restarted meanwhile) is sent again with the next change and first on the next connect. A rescan
 * alone would keep the old definition of a changed gateway.
 */
import { isKill, rescan, withPendingKills } from "./changes";
import type { EslLogger } from "./esl";
import { judgeReply, type ReplyVerdict } from "./eslReply";

export interface EslCommands {
  api(command: string): Promise<string>;
}

export interface RefusedCommand {
  readonly command: string;
  /** FreeSWITCH's answer, e.g. "Invalid Profile [internal]". */
  readonly reply: string;
}

export interface ReloadOutcome {
  /**
   * "applied": FreeSWITCH accepted every command; "refused": it answered but refused some (listed
   * in `refused`; a refused killgw stays pending and is sent again with the next change and on
   * the next ESL connect); "deferred": ESL is down, the commands run on reconnect; "inactive":
   * this host of a standby pair is not active, so nothing is sent (its FreeSWITCH runs no
   * gateways; they start from the stored set when it becomes active).
   */
  readonly status: "none" | "applied" | "refused" | "deferred" | "inactive";
  readonly commands: string[];
  readonly refused?: RefusedCommand[];
}

/** Where unconfirmed `killgw` commands are kept (the store). */
export interface PendingKills {
  get(): readonly string[];
  add(kills: readonly string[]): Promise<void>;
  remove(kills: readonly string[]): Promise<void>;
}

export class SofiaReloader {
  constructor(
    private readonly esl: EslCommands,
    private readonly profiles: readonly string[],
    private readonly logger: EslLogger,
    private readonly pending: PendingKills,
  ) {}

  async apply(planned: readonly string[]): Promise<ReloadOutcome> {
    const commands = withPendingKills(planned, this.pending.get());
    if (commands.length === 0) return { status: "none", commands: [] };
    const kills = commands.filter(isKill);
    // Write-ahead: recorded before sending, so neither ESL down nor a crash can lose them.
    if (kills.length > 0) await this.pending.add(kills);
    const refused: RefusedCommand[] = [];
    for (const command of commands) {
      let verdict: ReplyVerdict;
      try {
        verdict = await this.run(command);
      } catch (error) {
        // Every profile is rescanned on reconnect; the kills not yet accepted stay recorded.
        this.logger.warn({ command, err: (error as Error).message }, "Sofia reload deferred until ESL reconnects");
        return { status: "deferred", commands };
      }
      if (verdict.kind === "refused") refused.push({ command, reply: verdict.reason });
      else if (isKill(command)) await this.pending.remove([command]);
    }
    return refused.length > 0 ? { status: "refused", commands, refused } : { status: "applied", commands };
  }

  /** On every ESL (re)connect: recorded kills first, then a rescan of every configured profile. */
  async resync(): Promise<void> {
    for (const command of [...this.pending.get()]) {
      if ((await this.run(command)).kind !== "refused") await this.pending.remove([command]);
    }
    for (const profile of this.profiles) await this.run(rescan(profile));
  }

  private async run(command: string): Promise<ReplyVerdict> {
    const reply = await this.esl.api(command);
    const verdict = judgeReply(command, reply);
    if (verdict.kind === "refused")
      this.logger.warn({ command, reply: verdict.reason }, "FreeSWITCH refused an ESL command; it stays pending");
    else if (verdict.kind === "absent")
      this.logger.info({ command }, "ESL killgw: FreeSWITCH runs no such gateway, nothing to kill");
    else this.logger.info({ command }, "ESL command applied");
    return verdict;
  }
}
