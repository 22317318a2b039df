import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './http.ts';
import { earliestStatusByOperatorQuery } from './sql.ts';

/** How long the per-operator coverage start is reused: it only moves when history is rebuilt. */
export const COVERAGE_TTL_MS = 5 * 60_000;

/**
 * The earliest status occurrence date the hub holds from each operator: the start of the period
 * for which "no disconnection reported" means "none happened". One GROUP BY over the status history,
 * cached briefly so risk checks do not scan per request; concurrent callers share one query.
 */
export class OperatorCoverage {
  private cached: { at: number; byOperator: Map<string, string> } | null = null;
  private pending: Promise<Map<string, string>> | null = null;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly now: () => number,
    private readonly ttlMs = COVERAGE_TTL_MS,
  ) {}

  async earliest(operator: string | null): Promise<string | null> {
    if (operator === null) return null;
    return (await this.all()).get(operator) ?? null;
  }

  private async all(): Promise<Map<string, string>> {
    if (this.cached && this.now() - this.cached.at < this.ttlMs) return this.cached.byOperator;
    if (!this.pending) {
      this.pending = queryRows<{ operator: string; earliest: string }>(
        this.client,
        earliestStatusByOperatorQuery(this.database),
      )
        .then((rows) => {
          const byOperator = new Map(rows.map((r) => [r.operator, r.earliest]));
          this.cached = { at: this.now(), byOperator };
          return byOperator;
        })
        .finally(() => {
          this.pending = null;
        });
    }
    return this.pending;
  }
}
