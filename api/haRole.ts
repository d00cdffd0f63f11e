/**
 * This host's role in a standby pair, as keepalived's notify script leaves it in role.json
 * (sip/standby.ts HaState; HA_PATHS.state, mounted read-only at API_HA_STATE). The script
 * replaces the file by rename, so the directory is watched, not the file (a watch on the file
 * would keep following the replaced inode); a poll every second backs the watch up, since
 * inotify events can be missed (a directory removed and made again, an overflowing queue).
 *
 * Anything but a readable, valid file says "standby": a host that cannot tell its role must not
 * register the trunks, since the other host may be doing so. Only a file that says "active" is.
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { z } from "zod";
import type { ApiSettings } from "../sip/apiContract";
import type { HaRole, HaState } from "../sip/standby";

export const HA_ROLES = ["active", "standby", "fault"] as const satisfies readonly HaRole[];
export type HaHost = HaState["host"];

/**
 * role.json as notify.sh writes it. `since` is kept as the script wrote it (its ISO time) rather
 * than checked as a date: a host whose clock text is odd must still follow its role. Unknown keys
 * are ignored, so the script may say more later without silencing the API.
 */
export const haStateSchema = z.object({
  role: z.enum(HA_ROLES),
  since: z.string().min(1),
  reason: z.string(),
  host: z.enum(["primary", "standby"]),
}) satisfies z.ZodType<HaState>;

export interface RoleLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What the role file says, or why it says nothing (then this host counts as standby). */
export type RoleReading = { readonly state: HaState } | { readonly problem: string };

export async function readRole(path: string): Promise<RoleReading> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { problem: code === "ENOENT" ? `no role file at ${path}` : `cannot read the role file ${path} (${code})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: `the role file ${path} is not JSON` };
  }
  const parsed = haStateSchema.safeParse(json);
  if (!parsed.success)
    return {
      problem: `the role file ${path} is not a role: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ")}`,
    };
  return { state: parsed.data };
}

export interface RoleWatcherOptions {
  readonly ha: NonNullable<ApiSettings["ha"]>;
  readonly log: RoleLog;
  /** Called when the role changes (not when only `since` or `reason` do), one call at a time, in order. */
  readonly onChange: (next: HaState, previous: HaState) => void;
  /** The backstop poll; 1 s. */
  readonly pollMs?: number;
}

export class HaRoleWatcher {
  private state: HaState | undefined;
  /** Why the file said nothing last time, if it did not. */
  private problem: string | undefined;
  private warnedHost = false;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** Reads run one at a time; a change noticed during a read asks for one more. */
  private reading: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: RoleWatcherOptions) {}

  /** The role now; start() must have resolved. */
  get current(): HaState {
    if (!this.state) throw new Error("HaRoleWatcher: start() first");
    return this.state;
  }

  /** Reads the role once (no onChange for it), then watches for changes. */
  async start(): Promise<HaState> {
    const { statePath, host } = this.options.ha;
    this.state = this.stateFrom(await readRole(statePath));
    this.options.log.info({ ...this.state }, `standby pair: this host (${host}) starts as ${this.state.role}`);
    const file = basename(statePath);
    try {
      this.watcher = watch(dirname(statePath), { persistent: false }, (_event, name) => {
        if (name === null || name === file) void this.check();
      });
      this.watcher.on("error", (error: Error) => {
        this.options.log.warn({ err: error.message }, "standby pair: watching the role file failed; polling only");
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      // No directory yet: the poll finds the file once notify.sh has written it.
      this.options.log.warn(
        { dir: dirname(statePath), err: (error as Error).message },
        "standby pair: cannot watch the role file's directory; polling it only",
      );
    }
    this.poll = setInterval(() => void this.check(), this.options.pollMs ?? 1000);
    this.poll.unref();
    return this.state;
  }

  /** Reads the file again now (the watch and the poll call this); resolves once read. */
  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        const reading = await readRole(this.options.ha.statePath);
        if (this.stopped) return;
        const previous = this.current;
        const next = this.stateFrom(reading);
        this.state = next;
        if (next.role === previous.role) continue;
        this.options.log.info(
          { role: next.role, previous: previous.role, reason: next.reason, since: next.since },
          `standby pair: this host is now ${next.role} (was ${previous.role})`,
        );
        this.options.onChange(next, previous);
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    this.watcher?.close();
  }

  /**
   * A file that says nothing is "standby" since the moment that began: the same problem read
   * again keeps its `since`, so polls do not restart the clock.
   */
  private stateFrom(reading: RoleReading): HaState {
    const before = this.problem;
    if ("state" in reading) {
      this.problem = undefined;
      if (reading.state.host !== this.options.ha.host && !this.warnedHost) {
        this.warnedHost = true;
        this.options.log.warn(
          { file: reading.state.host, settings: this.options.ha.host },
          "standby pair: the role file names the other host; its role is followed all the same",
        );
      }
      return reading.state;
    }
    this.problem = reading.problem;
    if (before === reading.problem && this.state) return this.state;
    this.options.log.warn({ problem: reading.problem }, "standby pair: role unknown, this host counts as standby");
    return { role: "standby", since: new Date().toISOString(), reason: reading.problem, host: this.options.ha.host };
  }
}
