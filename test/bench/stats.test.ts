import { describe, expect, it } from "vitest";
import {
  conservativeMedian,
  highestPassingRate,
  roundAgainst,
  rpsVerdict,
  summarize,
  type Figures,
} from "../../bench/stats";

const round = (rps: number, p99 = 1): Figures => ({
  rps,
  p50: 0.5,
  p99,
  errors: 0,
  cpuUsPerRequest: 10,
  cpuSystemUsPerRequest: 4,
});

describe("the benchmark's statistics", () => {
  it("takes the middle value of an odd count whichever side is judged", () => {
    expect(conservativeMedian([3, 1, 2], "higher")).toBe(2);
    expect(conservativeMedian([3, 1, 2], "lower")).toBe(2);
  });

  it("takes the worse of the two middle values of an even count", () => {
    expect(conservativeMedian([1.02, 0.84], "higher")).toBe(0.84);
    expect(conservativeMedian([4, 1, 3, 2], "higher")).toBe(2);
    expect(conservativeMedian([4, 1, 3, 2], "lower")).toBe(3);
  });

  it("reports, for two rounds whose pairs give 1.02× and 0.84×, the 0.84× the table shows, as a miss", () => {
    // The run from the bug report: the better middle pair (1.02×) was reported as meeting the target.
    const bare = [round(10_000), round(10_000)];
    const api = [round(10_200), round(8_400)];
    const verdict = rpsVerdict(api, bare, 0.8);
    expect(verdict.shown).toBe("0.84");
    expect(verdict.ratio).toBeCloseTo(0.84, 10);
    const table = summarize(api, "api").rps / summarize(bare, "baseline").rps;
    expect(verdict.ratio).toBeLessThanOrEqual(table);
    expect(verdict.tableRatio).toBe(table);
  });

  it("never reports more than the table's API/bare ratio, even when the pairs look better", () => {
    // Pairs: 12000/10000, 8000/6000 → 1.2, 1.33; table (API lower middle / bare upper middle): 8000/10000.
    const verdict = rpsVerdict([round(12_000), round(8_000)], [round(10_000), round(6_000)], 0.8);
    expect(verdict.ratio).toBeCloseTo(0.8, 10);
    expect(verdict.shown).toBe("0.80");
    expect(verdict.meetsTarget).toBe(true);
  });

  it("rounds the printed ratio against the API, and judges what it prints", () => {
    expect(roundAgainst(0.7996, "higher")).toBe("0.79");
    expect(roundAgainst(0.8, "higher")).toBe("0.80");
    expect(roundAgainst(2.001, "lower")).toBe("2.01");
    expect(roundAgainst(2, "lower")).toBe("2.00");
    const verdict = rpsVerdict([round(7_996)], [round(10_000)], 0.8);
    expect(verdict.shown).toBe("0.79");
    expect(verdict.meetsTarget).toBe(false);
  });

  it("shows the API's worse middle and the baseline's better middle in the table", () => {
    const rounds = [round(100, 4), round(300, 2), round(200, 3), round(400, 1)];
    expect(summarize(rounds, "api")).toMatchObject({ rps: 200, p99: 3 });
    expect(summarize(rounds, "baseline")).toMatchObject({ rps: 300, p99: 2 });
  });
});

describe("the search for the highest sustained rate", () => {
  const limit = (threshold: number) => async (rate: number) => rate <= threshold;

  it("brackets the limit by doubling, then bisects until the first failure is within 10% of the reported rate", async () => {
    const search = await highestPassingRate(limit(333), { start: 25, max: 3200, precision: 0.1 });
    expect(search.rate).toBeLessThanOrEqual(333);
    expect(search.failedAt).toBeGreaterThan(333);
    expect((search.failedAt! - search.rate) / search.rate).toBeLessThanOrEqual(0.1);
    expect(search.tried.slice(0, 6)).toEqual([25, 50, 100, 200, 400, 300]);
  });

  it("reports 0 and the failing rate when even the first rate fails", async () => {
    expect(await highestPassingRate(limit(10), { start: 25, max: 3200, precision: 0.1 })).toEqual({
      rate: 0,
      failedAt: 25,
      tried: [25],
    });
  });

  it("stops at the maximum when everything passes, and says that nothing failed", async () => {
    const search = await highestPassingRate(limit(10_000), { start: 25, max: 1000, precision: 0.1 });
    expect(search).toEqual({ rate: 1000, failedAt: undefined, tried: [25, 50, 100, 200, 400, 800, 1000] });
  });
});
