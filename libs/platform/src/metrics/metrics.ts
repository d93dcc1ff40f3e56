import { Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * The service's metrics, all in prom-client's one registry (a service is one process): served at
 * `GET /metrics` in Prometheus' text format. Names follow OpenTelemetry's semantic conventions
 * where they have one (http.server.request.duration, messaging.process.duration,
 * db.client.connection.*), in Prometheus' spelling.
 */
export const metricsRegistry = register;

/** Seconds, from a fast hop (a few ms) to a slow one (tens of seconds). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const httpRequestDuration = new Histogram({
  name: 'http_server_request_duration_seconds',
  help: 'HTTP requests answered, by method, route template and status code.',
  labelNames: ['http_request_method', 'http_route', 'http_response_status_code'] as const,
  buckets: LATENCY_BUCKETS,
});

export const messagesConsumed = new Counter({
  name: 'messaging_client_consumed_messages_total',
  help:
    'Messages a consumer took off its queue, by queue, event type and outcome: handled, ' +
    'duplicate (already handled), retried (sent to a retry queue) or dead_lettered.',
  labelNames: ['messaging_destination_name', 'message_type', 'outcome'] as const,
});

export const messageBatchDuration = new Histogram({
  name: 'messaging_process_duration_seconds',
  help: 'Time to handle a batch of messages in its one transaction, by queue.',
  labelNames: ['messaging_destination_name'] as const,
  buckets: LATENCY_BUCKETS,
});

/**
 * A gauge whose value is read when Prometheus scrapes (a query, a pool's counters). Made once per
 * name: a second provider of the same thing (tests start several services in one process)
 * replaces the reading, it does not fail on a name already registered. A reading that fails
 * (its database is down) leaves the gauge unknown for that scrape: NaN, or no series. Returns what removes
 * it, for the provider's shutdown.
 */
export function readOnScrape<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (gauge: Gauge<L>) => Promise<void> | void,
): () => void {
  metricsRegistry.removeSingleMetric(name);
  const gauge = new Gauge<L>({
    name,
    help,
    labelNames,
    async collect() {
      this.reset();
      try {
        await read(this);
      } catch {
        // A database that does not answer leaves this one unknown (NaN, never a reassuring 0),
        // not the whole scrape failed.
        if (labelNames.length === 0) this.set(NaN);
      }
    },
  });
  // For the provider's shutdown: its reading must not outlive what it reads (a closed pool).
  return () => {
    if (metricsRegistry.getSingleMetric(name) === gauge) metricsRegistry.removeSingleMetric(name);
  };
}
