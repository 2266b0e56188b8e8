import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';

export { MetricUnit };

/**
 * Powertools Logger, Metrics and Tracer of one handler, each created on first use (not at
 * module load), configured by the standard variables (POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_NAMESPACE, LOG_LEVEL). The Tracer disables itself outside Lambda.
 */
export class Observability {
  private loggerInstance: Logger | undefined;
  private metricsInstance: Metrics | undefined;
  private tracerInstance: Tracer | undefined;
  private coldStart = true;

  constructor(private readonly serviceName: string) {}

  get logger(): Logger {
    this.loggerInstance ??= new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || this.serviceName });
    return this.loggerInstance;
  }

  get metrics(): Metrics {
    this.metricsInstance ??= new Metrics({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || this.serviceName });
    return this.metricsInstance;
  }

  get tracer(): Tracer {
    this.tracerInstance ??= new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || this.serviceName });
    return this.tracerInstance;
  }

  /** Adds X-Ray capture to an AWS SDK v3 client (a no-op when tracing is off). */
  captureClient<T>(client: T): T {
    return this.tracer.isTracingEnabled() ? this.tracer.captureAWSv3Client(client) : client;
  }

  count(name: string, value = 1): void {
    this.metrics.addMetric(name, MetricUnit.Count, value);
  }

  /**
   * Runs one invocation: Lambda context on the logs, a `## <name>` subsegment with the
   * cold-start annotation, errors logged and traced, metrics flushed at the end.
   */
  async invocation<T>(name: string, context: Context | undefined, run: () => Promise<T>): Promise<T> {
    const logger = this.logger;
    if (context) logger.addContext(context);
    const tracer = this.tracer;
    const tracing = tracer.isTracingEnabled();
    const parent = tracing ? tracer.getSegment() : undefined;
    const segment = parent?.addNewSubsegment(`## ${name}`);
    if (segment) {
      tracer.setSegment(segment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
    }
    if (this.coldStart) {
      this.coldStart = false;
      this.metrics.captureColdStartMetric();
    }
    try {
      const result = await run();
      return result;
    } catch (error) {
      logger.error(`${name} failed`, error as Error);
      if (segment) tracer.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
      if (segment && parent) {
        segment.close();
        tracer.setSegment(parent);
      }
    }
  }
}

/**
 * A pino-shaped facade over a Powertools Logger for fastify (`loggerInstance`): warnings and
 * errors (what the routes log: internal errors) go to Powertools; fastify's per-request info
 * lines (incoming request, request completed) are dropped, the handler logs its own.
 */
export function fastifyLoggerOf(logger: Logger): FastifyLoggerFacade {
  const write =
    (level: 'warn' | 'error' | 'critical') =>
    (first?: unknown, message?: unknown): void => {
      if (typeof first === 'string') {
        logger[level](first);
        return;
      }
      const text = typeof message === 'string' ? message : level;
      const details = first as Record<string, unknown> | undefined;
      const error = details?.err instanceof Error ? details.err : undefined;
      if (error) logger[level](text, error);
      else if (details && typeof details === 'object') logger[level](text, { details: safeDetails(details) });
      else logger[level](text);
    };
  const facade: FastifyLoggerFacade = {
    level: 'info',
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: write('warn'),
    error: write('error'),
    fatal: write('critical'),
    silent: () => undefined,
    child: () => facade,
  };
  return facade;
}

function safeDetails(details: Record<string, unknown>): Record<string, unknown> {
  // fastify passes request/response objects to some log calls: keep it to plain values.
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
  }
  return out;
}

export interface FastifyLoggerFacade {
  level: string;
  trace: (...args: unknown[]) => void;
  debug: (...args: unknown[]) => void;
  info: (...args: unknown[]) => void;
  warn: (...args: unknown[]) => void;
  error: (...args: unknown[]) => void;
  fatal: (...args: unknown[]) => void;
  silent: (...args: unknown[]) => void;
  child: () => FastifyLoggerFacade;
}
