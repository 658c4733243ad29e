// HDR histograms of client latencies in integer microseconds. One configuration for every
// histogram the client side produces, so encoded windows can be decoded, merged and re-read.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";
import type { LatencySummary } from "../model/run-report.js";

import { LATENCY_HISTOGRAM } from "./latency-range.js";

export { LATENCY_HISTOGRAM, toRecordableUs } from "./latency-range.js";

export function createLatencyHistogram(): Histogram {
  return build({ ...LATENCY_HISTOGRAM, bitBucketSize: 32, autoResize: false, useWebAssembly: false });
}

export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

/** Decodes a `ClientStats.windows[name].histogram` for re-rendering or other percentiles. */
export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, 32, false);
}

export function summarizeLatency(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
  };
}

/** Value at percentile `p` (0..100] of an encoded histogram; null when it holds no samples. */
export function percentileOf(encoded: string, p: number): number | null {
  const histogram = decodeHistogram(encoded);
  return histogram.totalCount === 0 ? null : histogram.getValueAtPercentile(p);
}
