/**
 * Applies trunk changes to the running Sofia profiles over ESL, and re-syncs on every ESL
 * (re)connect: FreeSWITCH may have loaded its profiles while the API was down (its xml_curl
 * request then got no gateways), so each connect rescans every profile. Every `killgw` is
 * recorded durably before it is sent and cleared once FreeSWITCH answered it; whatever is still
 * recorded (FreeSWITCH was down, or the API restarted meanwhile) is sent first on the next
 * connect. A rescan alone would keep the old definition of a changed gateway.
 */
import { rescan } from "./changes";
import type { EslLogger } from "./esl";

export interface EslCommands {
  api(command: string): Promise<string>;
}

export interface ReloadOutcome {
  /** "applied": every command was answered; "deferred": ESL is down, they run on reconnect. */
  readonly status: "none" | "applied" | "deferred";
  readonly commands: string[];
}

/** Where unconfirmed `killgw` commands are kept (the store). */
export interface PendingKills {
  get(): readonly string[];
  add(kills: readonly string[]): Promise<void>;
  remove(kills: readonly string[]): Promise<void>;
}

const isKill = (command: string) => command.includes(" killgw ");

export class SofiaReloader {
  constructor(
    private readonly esl: EslCommands,
    private readonly profiles: readonly string[],
    private readonly logger: EslLogger,
    private readonly pending: PendingKills,
  ) {}

  async apply(commands: readonly string[]): Promise<ReloadOutcome> {
    if (commands.length === 0) return { status: "none", commands: [] };
    const kills = commands.filter(isKill);
    // Write-ahead: recorded before sending, so neither ESL down nor a crash can lose them.
    if (kills.length > 0) await this.pending.add(kills);
    for (const [i, command] of commands.entries()) {
      try {
        await this.run(command);
      } catch (error) {
        // Every profile is rescanned on reconnect; the kills not yet answered stay recorded.
        await this.confirm(commands.slice(0, i).filter(isKill));
        this.logger.warn({ command, err: (error as Error).message }, "Sofia reload deferred until ESL reconnects");
        return { status: "deferred", commands: [...commands] };
      }
    }
    await this.confirm(kills);
    return { status: "applied", commands: [...commands] };
  }

  /** On every ESL (re)connect: recorded kills first, then a rescan of every configured profile. */
  async resync(): Promise<void> {
    for (const command of [...this.pending.get()]) {
      await this.run(command);
      await this.confirm([command]);
    }
    for (const profile of this.profiles) await this.run(rescan(profile));
  }

  private async confirm(sent: readonly string[]): Promise<void> {
    if (sent.length > 0) await this.pending.remove(sent);
  }

  private async run(command: string): Promise<void> {
    const reply = (await this.esl.api(command)).trim();
    // "-ERR" is an answer, not a lost command: e.g. killgw of a gateway the profile never loaded.
    if (reply.startsWith("-ERR")) this.logger.warn({ command, reply }, "FreeSWITCH refused an ESL command");
    else this.logger.info({ command }, "ESL command applied");
  }
}
