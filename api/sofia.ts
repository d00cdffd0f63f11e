/**
 * Applies trunk changes to the running Sofia profiles over ESL, and re-syncs on every ESL
 * (re)connect: FreeSWITCH may have loaded its profiles while the API was down (its xml_curl
 * request then got no gateways), so each connect rescans every profile. A `killgw` that could
 * not be sent is kept and sent first on the next connect; a rescan alone would keep the old
 * definition of a changed gateway.
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

export class SofiaReloader {
  private readonly pendingKills = new Set<string>();

  constructor(
    private readonly esl: EslCommands,
    private readonly profiles: readonly string[],
    private readonly logger: EslLogger,
  ) {}

  async apply(commands: readonly string[]): Promise<ReloadOutcome> {
    if (commands.length === 0) return { status: "none", commands: [] };
    for (const [i, command] of commands.entries()) {
      try {
        await this.run(command);
      } catch (error) {
        // Every profile is rescanned on reconnect; only the kills need remembering.
        for (const rest of commands.slice(i)) if (rest.includes(" killgw ")) this.pendingKills.add(rest);
        this.logger.warn({ command, err: (error as Error).message }, "Sofia reload deferred until ESL reconnects");
        return { status: "deferred", commands: [...commands] };
      }
    }
    return { status: "applied", commands: [...commands] };
  }

  /** On every ESL (re)connect: pending kills first, then a rescan of every configured profile. */
  async resync(): Promise<void> {
    for (const command of [...this.pendingKills]) {
      await this.run(command);
      this.pendingKills.delete(command);
    }
    for (const profile of this.profiles) await this.run(rescan(profile));
  }

  private async run(command: string): Promise<void> {
    const reply = (await this.esl.api(command)).trim();
    // "-ERR" is an answer, not a lost command: e.g. killgw of a gateway the profile never loaded.
    if (reply.startsWith("-ERR")) this.logger.warn({ command, reply }, "FreeSWITCH refused an ESL command");
    else this.logger.info({ command }, "ESL command applied");
  }
}
