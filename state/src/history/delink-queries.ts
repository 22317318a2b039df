import { RAW_TABLES } from './tables.ts';

/** A database name is an identifier the configuration checked; it is still quoted. */
const db = (name: string) => `\`${name.replace(/`/g, '')}\``;

/**
 * Dashboard figures of the delink workflow, from its raw history (migration 010). A request's state
 * is its newest state-changing event (by Kafka offset: all of a request's events are in one
 * partition, in order), dispatch steps aside.
 */
export function delinkStatsQueries(database: string) {
  const d = db(database);
  const delink = `${d}.${RAW_TABLES.delink}`;
  const sims = `${d}.${RAW_TABLES['recycled-sim']}`;
  const state = `transform(last, ['REQUESTED', 'RETRIED'], ['PENDING', 'APPROVED'], last)`;
  return {
    /** Requests not yet REJECTED, COMPLETED or CANCELLED: key = state, key2 = operator. */
    openByStateAndOperator: `SELECT ${state} AS key, operator AS key2, count() AS value FROM (
  SELECT request_id, argMax(action, kafka_offset) AS last, ifNull(anyIf(operator, action = 'REQUESTED'), '') AS operator
  FROM ${delink} WHERE action != 'DISPATCHED' GROUP BY request_id
) WHERE last NOT IN ('REJECTED', 'COMPLETED', 'CANCELLED') GROUP BY key, key2 ORDER BY key, key2`,
    /** Numbers whose registry entry reached `completed`: seconds from first detection/registration. */
    detectionToCleared: `SELECT count() AS numbers, avg(s) AS avg_seconds, quantile(0.5)(s) AS p50_seconds, quantile(0.9)(s) AS p90_seconds FROM (
  SELECT msisdn,
    minIf(occurred_at, action IN ('DETECTED', 'REGISTERED')) AS seen,
    maxIf(occurred_at, action = 'CLEANUP_STATUS_CHANGED' AND cleanup_status = 'completed') AS cleared,
    toInt64(cleared) - toInt64(seen) AS s
  FROM ${sims} GROUP BY msisdn HAVING cleared > toDateTime(0, 'UTC') AND seen > toDateTime(0, 'UTC')
)`,
    /** Why requests failed at a source: distinct FAILED events per reason. */
    failureReasons: `SELECT ifNull(reason, '') AS key, uniqExact(event_id) AS value FROM ${delink}
WHERE action = 'FAILED' GROUP BY key ORDER BY value DESC, key LIMIT 20`,
  };
}
