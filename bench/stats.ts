/**
 * The benchmark's statistics, kept pure so they are unit-tested. Every choice leans against the
 * config API: with an even number of rounds there is no single middle value, and taking the
 * better of the two middle ones (or rounding 0.796 up to "0.80") would report a pass the runs
 * did not show.
 */

/** Which way a figure is better: more requests/s, or less latency. */
export type Better = "higher" | "lower";

/**
 * The middle of `values`; with an even count, the one of the two middle values that is worse for
 * the side being judged (`better` says which direction is good for it).
 */
export function conservativeMedian(values: readonly number[], better: Better): number {
  if (values.length === 0) throw new Error("no values");
  const sorted = [...values].sort((a, b) => a - b);
  const lowerMiddle = sorted[Math.floor((sorted.length - 1) / 2)];
  const upperMiddle = sorted[Math.floor(sorted.length / 2)];
  return better === "higher" ? lowerMiddle : upperMiddle;
}

export interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Server CPU time (user + system) per answered request: less sensitive than req/s to other load on the machine. */
  cpuUsPerRequest: number;
  /** The system (kernel) part of it: socket writes and reads, the same work for any server answering the same bytes. */
  cpuSystemUsPerRequest: number;
}

/**
 * One row of the table per server. The API's row takes the worse middle of each figure and the
 * baseline's row the better one, so a ratio of the two rows never flatters the API.
 */
export function summarize(rounds: readonly Figures[], side: "api" | "baseline"): Figures {
  const flip = (better: Better): Better => (side === "api" ? better : better === "higher" ? "lower" : "higher");
  const pick = (figure: (r: Figures) => number, better: Better) => conservativeMedian(rounds.map(figure), flip(better));
  return {
    rps: pick((r) => r.rps, "higher"),
    p50: pick((r) => r.p50, "lower"),
    p99: pick((r) => r.p99, "lower"),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    cpuUsPerRequest: pick((r) => r.cpuUsPerRequest, "lower"),
    cpuSystemUsPerRequest: pick((r) => r.cpuSystemUsPerRequest, "lower"),
  };
}

export interface RpsVerdict {
  /** The ratio reported: the smaller of the table's ratio and the API-worst middle of the per-round ratios. */
  readonly ratio: number;
  /** The same, rounded down to two decimals: what is printed, never above the exact figure. */
  readonly shown: string;
  readonly tableRatio: number;
  readonly roundRatios: readonly number[];
  readonly meetsTarget: boolean;
}

/** Rounds `value` to `decimals` places in the direction that is worse (`better` says which is good), so a printed figure never looks better than it is. */
export function roundAgainst(value: number, better: Better, decimals = 2): string {
  const scale = 10 ** decimals;
  // A tiny epsilon so 0.8 (stored as 0.8000000000000000444) does not print as 0.79.
  const scaled = value * scale;
  const rounded = better === "higher" ? Math.floor(scaled + 1e-9) : Math.ceil(scaled - 1e-9);
  return (rounded / scale).toFixed(decimals);
}

/**
 * The requests/s verdict. Pairs alternate which server runs first, so each pair's ratio is a fair
 * comparison; the table's medians are another view. The reported ratio is the worse of the two,
 * so it agrees with the table (it is never above the table's API/bare) and is judged as printed.
 */
export function rpsVerdict(apiRounds: readonly Figures[], bareRounds: readonly Figures[], target: number): RpsVerdict {
  if (apiRounds.length !== bareRounds.length || apiRounds.length === 0)
    throw new Error("need the same non-zero number of rounds per server");
  const roundRatios = apiRounds.map((a, i) => a.rps / bareRounds[i].rps);
  const tableRatio = summarize(apiRounds, "api").rps / summarize(bareRounds, "baseline").rps;
  const ratio = Math.min(tableRatio, conservativeMedian(roundRatios, "higher"));
  const shown = roundAgainst(ratio, "higher");
  // `shown` is rounded down, so judging it judges the exact ratio too.
  return { ratio, shown, tableRatio, roundRatios, meetsTarget: Number(shown) >= target };
}

export interface RateSearch {
  /** The highest rate that passed (0 when even the first one failed). */
  readonly rate: number;
  /** The lowest rate that failed, when one did (the true limit lies between the two). */
  readonly failedAt?: number;
  /** Every rate tried, in order. */
  readonly tried: readonly number[];
}

/**
 * The highest rate at which `passes` holds, to within `precision` (0.1: the first failing rate is
 * at most 10% above the reported one): doubling from `start` until a rate fails or `max` passes,
 * then bisecting between the last pass and the first failure. Passing is assumed to get no easier
 * as the rate rises. Rates are whole numbers.
 */
export async function highestPassingRate(
  passes: (rate: number) => Promise<boolean>,
  options: { start: number; max: number; precision: number },
): Promise<RateSearch> {
  const tried: number[] = [];
  const attempt = async (rate: number) => (tried.push(rate), passes(rate));
  let lo = 0;
  let hi: number | undefined;
  for (let rate = options.start; hi === undefined; rate = Math.min(rate * 2, options.max)) {
    if (await attempt(rate)) {
      lo = rate;
      if (rate >= options.max) break;
    } else hi = rate;
  }
  if (hi === undefined || lo === 0) return { rate: lo, failedAt: hi, tried };
  while (hi - lo > options.precision * lo) {
    const mid = Math.round((lo + hi) / 2);
    if (mid === lo || mid === hi) break;
    if (await attempt(mid)) lo = mid;
    else hi = mid;
  }
  return { rate: lo, failedAt: hi, tried };
}
