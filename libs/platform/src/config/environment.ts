import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  Max,
  Min,
  MinLength,
  registerDecorator,
  validateSync,
  type ValidationError,
} from 'class-validator';

/** A configuration problem, reported by variable name so an operator can fix it at once. */
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

/** A connection URL whose scheme is one of `protocols` (for example `postgres:`). */
export function IsConnectionUrl(protocols: string[]): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isConnectionUrl',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [protocols],
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            const url = new URL(value);
            return protocols.includes(url.protocol) && url.hostname !== '';
          } catch {
            return false;
          }
        },
        defaultMessage: () =>
          `must be a URL of the form ${protocols.map((p) => `${p}//host:port`).join(' or ')}`,
      },
    });
}

export const IsPort = (): PropertyDecorator => (target, key) => {
  IsInt({ message: 'must be a port number (an integer from 1 to 65535)' })(target, key);
  Min(1, { message: 'must be a port number (an integer from 1 to 65535)' })(target, key);
  Max(65535, { message: 'must be a port number (an integer from 1 to 65535)' })(target, key);
};

/** A number at least twice another setting's (a prefetch that holds two batches). */
function AtLeastTwice(other: string): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'atLeastTwice',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [other],
      validator: {
        validate: (value: unknown, args) => {
          const base = (args?.object as Record<string, unknown>)[other];
          return typeof value !== 'number' || typeof base !== 'number' || value >= 2 * base;
        },
        defaultMessage: () => `must be at least twice ${other}`,
      },
    });
}

/** Good enough on a laptop, and nowhere else: every service trusts any token signed with it. */
export const DEV_JWT_SECRET = 'dev-only-secret-change-me';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Settings every service shares; each service's schema extends it with its own. */
export class ServiceEnvironment {
  @IsConnectionUrl(['amqp:', 'amqps:'])
  RABBITMQ_URL: string = 'amqp://guest:guest@127.0.0.1:5672';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  // Humans at a terminal get readable lines; everything else (files, collectors) gets JSON.
  @IsIn(['json', 'pretty'])
  LOG_FORMAT: 'json' | 'pretty' = process.stdout.isTTY ? 'pretty' : 'json';

  // Signs and checks callers' bearer tokens (HS256); every service must share the same one.
  @MinLength(16, { message: 'must be a secret of at least 16 characters' })
  JWT_SECRET: string = DEV_JWT_SECRET;

  /** Deliveries a consumer holds unacknowledged (its channel prefetch): two batches' worth. */
  @IsInt()
  @Min(2)
  @Max(2000)
  @AtLeastTwice('CONSUMER_BATCH_SIZE')
  RABBITMQ_PREFETCH: number = 64;

  /** Messages a consumer handles in one transaction, at most. */
  @IsInt()
  @Min(1)
  @Max(1000)
  CONSUMER_BATCH_SIZE: number = 32;

  /** How long an idle consumer waits for more messages before a smaller batch (0: none). */
  @IsInt()
  @Min(0)
  @Max(1000)
  CONSUMER_LINGER_MS: number = 0;

  /** Deliveries of a message whose handler fails, the first included, before dead-lettering. */
  @IsInt()
  @Min(1)
  @Max(20)
  RETRY_ATTEMPTS: number = 5;

  @IsInt()
  @Min(10)
  RETRY_BASE_DELAY_MS: number = 1000;

  @IsInt()
  @Min(10)
  RETRY_MAX_DELAY_MS: number = 60_000;

  @IsInt()
  @Min(1)
  @Max(10_000)
  OUTBOX_BATCH_SIZE: number = 500;

  /** How often the relay looks for work when no notification woke it. */
  @IsInt()
  @Min(10)
  OUTBOX_POLL_INTERVAL_MS: number = 1000;

  @IsInt()
  @Min(1)
  OUTBOX_RETENTION_HOURS: number = 24;

  /** How long consumed message ids are remembered to recognise duplicates. */
  @IsInt()
  @Min(1)
  INBOX_RETENTION_DAYS: number = 7;
}

// Connection strings may carry passwords: never echo them back.
const isSecret = (name: string) => /SECRET|PASSWORD|URL|TOKEN/.test(name);

function describe(error: ValidationError, raw: Record<string, unknown>): string {
  const given = raw[error.property];
  const shown = given === undefined || isSecret(error.property) ? '' : ` (got "${String(given)}")`;
  // Built-in messages start with the property name and custom ones do not: say it once.
  const constraints = [
    ...new Set(
      Object.values(error.constraints ?? {}).map((text) =>
        text.startsWith(`${error.property} `) ? text.slice(error.property.length + 1) : text,
      ),
    ),
  ];
  return `${error.property} ${constraints.join(', ')}${shown}`;
}

/**
 * Builds the `validate` function for `ConfigModule.forRoot`: unset variables take the schema's
 * defaults, set ones are converted and checked, and every problem is named at once.
 */
export function environmentValidator<E extends ServiceEnvironment>(schema: new () => E) {
  return (raw: Record<string, unknown>): E => {
    const present = Object.fromEntries(
      Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
    );
    const environment = plainToInstance(schema, present, {
      enableImplicitConversion: true,
      exposeDefaultValues: true,
    });
    const errors = validateSync(environment, { forbidUnknownValues: false });
    if (errors.length > 0)
      throw new ConfigurationError(errors.map((error) => describe(error, present)));
    return environment;
  };
}
