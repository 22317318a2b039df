import { describe, expect, it } from 'vitest';
import { ohaResult } from './oha.ts';

describe('ohaResult', () => {
  it("reads oha's JSON summary: milliseconds, requests from the status counts, non-2xx by status", () => {
    const r = ohaResult({
      summary: { total: 2.0058, requestsPerSec: 999.6, slowest: 0.026351427 },
      latencyPercentiles: { p50: 0.000439559, p90: 0.002099409, p99: 0.019233803, 'p99.9': 0.0263 },
      statusCodeDistribution: { '200': 1990, '503': 10 },
      errorDistribution: { 'connection closed': 2 },
    });
    expect(r).toEqual({
      requests: 2000,
      errors: 2,
      statuses: { '503': 10 },
      seconds: 2.006,
      rps: 1000,
      p50: 0.44,
      p90: 2.099,
      p99: 19.234,
      max: 26.351,
    });
  });
});
