/**
 * The tallied route (mod_xml_curl's) must expose exactly what prom-client's own Counter and
 * Histogram would for the same requests: same series, same values, across several scrapes.
 */
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { HistogramWithTallies, RouteTally } from "../../api/routeTally";

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const COUNTER = { name: "api_requests_total", help: "requests", labelNames: ["method", "route", "status"] as const };
const LATENCY = { name: "api_request_duration_seconds", help: "latency" };

/** prom-client alone: every request through inc and observe. */
function reference() {
  const registry = new Registry();
  const counter = new Counter({ ...COUNTER, registers: [registry] });
  const histogram = new Histogram({
    ...LATENCY,
    labelNames: ["method", "route"],
    buckets: BOUNDS,
    registers: [registry],
  });
  return {
    registry,
    observe(method: string, route: string, status: number, seconds: number) {
      counter.inc({ method, route, status: String(status) });
      histogram.observe({ method, route }, seconds);
    },
  };
}

/** The API's arrangement: one route tallied, the others through prom-client. */
function tallied(method: string, route: string) {
  const registry = new Registry();
  const tally = new RouteTally(method, route, BOUNDS);
  const counter: Counter<"method" | "route" | "status"> = new Counter({
    ...COUNTER,
    registers: [registry],
    collect: () => tally.addCountsTo(counter),
  });
  const histogram = new Histogram({ ...LATENCY, labelNames: ["method", "route"], buckets: BOUNDS, registers: [] });
  const family = new HistogramWithTallies(histogram, LATENCY);
  family.include(tally);
  registry.registerMetric(family.asMetric());
  return {
    registry,
    family,
    observe(m: string, r: string, status: number, seconds: number) {
      if (m === method && r === route) tally.record(status, seconds);
      else {
        counter.inc({ method: m, route: r, status: String(status) });
        histogram.observe({ method: m, route: r }, seconds);
      }
    },
  };
}

/**
 * The exposition as Prometheus reads it: per family (HELP and TYPE first), its sample lines in
 * any order (the tallied route's come after the others', prom-client's in the order first seen).
 */
const families = (text: string) =>
  text
    .trim()
    .split("\n\n")
    .map((block) => {
      const lines = block.split("\n");
      return [...lines.filter((l) => l.startsWith("#")), ...lines.filter((l) => !l.startsWith("#")).sort()];
    });

const requests: [string, string, number, number][] = [
  ["POST", "/xml", 200, 0.0002],
  ["POST", "/xml", 200, 0.0005], // on a bound: filed under it
  ["POST", "/xml", 401, 0.003],
  ["GET", "/readyz", 200, 0.0009],
  ["POST", "/xml", 200, 12], // above every bound: +Inf only
  ["POST", "/xml", 415, 0.001],
  ["PUT", "/api/v1/sip/trunks", 400, 0.02],
];

describe("RouteTally", () => {
  it("exposes the same text as prom-client's Counter and Histogram, scrape after scrape", async () => {
    const want = reference();
    const got = tallied("POST", "/xml");
    for (const [m, r, s, t] of requests.slice(0, 4)) {
      want.observe(m, r, s, t);
      got.observe(m, r, s, t);
    }
    expect(families(await got.registry.metrics())).toEqual(families(await want.registry.metrics()));
    // A second scrape adds only what came after the first (counts are not added twice).
    for (const [m, r, s, t] of requests.slice(4)) {
      want.observe(m, r, s, t);
      got.observe(m, r, s, t);
    }
    const text = await got.registry.metrics();
    expect(families(text)).toEqual(families(await want.registry.metrics()));
    expect(text).toContain('api_requests_total{method="POST",route="/xml",status="200"} 3');
    expect(text).toContain('api_request_duration_seconds_bucket{le="0.0005",method="POST",route="/xml"} 2');
    expect(text).toContain('api_request_duration_seconds_bucket{le="+Inf",method="POST",route="/xml"} 5');
    expect(await got.registry.metrics()).toBe(text);
  });

  it("serves no latency series for a route nobody has called yet, and nothing after a reset", async () => {
    const got = tallied("POST", "/xml");
    expect(await got.registry.metrics()).not.toContain('route="/xml"');
    got.observe("POST", "/xml", 200, 0.001);
    expect(await got.registry.metrics()).toContain('api_request_duration_seconds_count{method="POST",route="/xml"} 1');
    got.family.reset();
    expect(await got.registry.metrics()).not.toContain("api_request_duration_seconds_count");
  });
});
