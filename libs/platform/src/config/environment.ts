import { plainToInstance, Transform } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  registerDecorator,
  validateSync,
  type ValidationError,
  type ValidationOptions,
} from 'class-validator';

/** A configuration problem, reported by variable name so an operator can fix it at once. */
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

/** A connection URL whose scheme is one of `protocols` (for example `postgres:`). */
export function IsConnectionUrl(
  protocols: string[],
  options?: ValidationOptions,
): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isConnectionUrl',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
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

/**
 * A check of a setting against the others (`holds(value, environment)`), for rules one variable
 * alone cannot state: unset variables have their defaults by then.
 */
function Holds(
  holds: (value: unknown, environment: Record<string, unknown>) => boolean,
  message: string,
): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'holds',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown, args) => holds(value, args?.object as Record<string, unknown>),
        defaultMessage: () => message,
      },
    });
}

/** A number at least twice another setting's (a prefetch that holds two batches). */
const AtLeastTwice = (other: string) =>
  Holds(
    (value, environment) =>
      typeof value !== 'number' ||
      typeof environment[other] !== 'number' ||
      value >= 2 * environment[other],
    `must be at least twice ${other}`,
  );

/** Algorithms an identity provider may sign with: asymmetric only, so no key is shared. */
export const IDP_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const commaList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : value;

function trustProxy(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  const addresses = commaList({ value }) as string[];
  return addresses.every((address) =>
    /^(loopback|linklocal|uniquelocal|[0-9A-Fa-f.:]+(\/\d{1,3})?)$/.test(address),
  )
    ? addresses
    : value;
}

/** Good enough on a laptop, and nowhere else: every service trusts any token signed with it. */
export const DEV_JWT_SECRET = 'dev-only-secret-change-me';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Settings every service shares; each service's schema extends it with its own. */
export class ServiceEnvironment {
  /**
   * The broker, or the nodes of a RabbitMQ cluster, comma-separated: the service connects to
   * one and moves to the next when it cannot reach it or loses it.
   */
  @Transform(commaList)
  @ArrayNotEmpty({ message: 'must name at least one broker' })
  @IsConnectionUrl(['amqp:', 'amqps:'], { each: true })
  RABBITMQ_URL: string[] = ['amqp://guest:guest@127.0.0.1:5672'];

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  // Humans at a terminal get readable lines; everything else (files, collectors) gets JSON.
  @IsIn(['json', 'pretty'])
  LOG_FORMAT: 'json' | 'pretty' = process.stdout.isTTY ? 'pretty' : 'json';

  /** `production` refuses what is only safe on a laptop (the development JWT_SECRET). */
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  // Signs and checks the HS256 tokens of `npm run token` and of services calling each other;
  // every service must share the same one.
  @MinLength(16, { message: 'must be a secret of at least 16 characters' })
  @Holds(
    (secret, environment) => environment.NODE_ENV !== 'production' || secret !== DEV_JWT_SECRET,
    'must be set when NODE_ENV=production: the development secret is public, anyone could sign tokens with it',
  )
  JWT_SECRET: string = DEV_JWT_SECRET;

  /** The `iss` of HS256 tokens: what this system's own tokens say they come from. */
  @MinLength(1)
  JWT_ISSUER: string = 'ordering';

  /** The `aud` every token must name, whoever issued it: this system's API. */
  @MinLength(1)
  JWT_AUDIENCE: string = 'ordering';

  /** The longest a token may be valid, from its `iat` (or from now) to its `exp`. */
  @IsInt()
  @Min(60)
  @Max(31 * 24 * 60 * 60)
  JWT_MAX_LIFETIME_SECONDS: number = 24 * 60 * 60;

  /** Clock skew forgiven between the token's issuer and this service (`exp`, `nbf`). */
  @IsInt()
  @Min(0)
  @Max(300)
  JWT_CLOCK_TOLERANCE_SECONDS: number = 30;

  /** An identity provider's key set (RS256/ES256...), fetched and refreshed as keys rotate. */
  @IsOptional()
  @IsConnectionUrl(['https:', 'http:'])
  @Holds(
    (url, environment) => url === undefined || environment.IDP_PUBLIC_KEY === undefined,
    'cannot be combined with IDP_PUBLIC_KEY: give the key set or one key',
  )
  IDP_JWKS_URL?: string;

  /** An identity provider's one public key (PEM, SPKI), when it publishes no key set. */
  @IsOptional()
  // An environment variable is one line more often than not: "\n" stands for a line break.
  @Transform(({ value }) => (typeof value === 'string' ? value.replaceAll('\\n', '\n') : value))
  @Matches(/^-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----\s*$/, {
    message: 'must be a PEM public key (-----BEGIN PUBLIC KEY----- ...), with \\n for line breaks',
  })
  IDP_PUBLIC_KEY?: string;

  /** The `iss` of the identity provider's tokens; required with its key. */
  @ValidateIf(
    (environment: ServiceEnvironment) =>
      environment.IDP_JWKS_URL !== undefined || environment.IDP_PUBLIC_KEY !== undefined,
  )
  @IsString({ message: 'must be set with IDP_JWKS_URL or IDP_PUBLIC_KEY' })
  @MinLength(1, { message: 'must be set with IDP_JWKS_URL or IDP_PUBLIC_KEY' })
  IDP_ISSUER?: string;

  /** What the identity provider signs with, of IDP_ALGORITHMS (comma-separated). */
  @Transform(commaList)
  @ArrayNotEmpty()
  @IsIn(IDP_ALGORITHMS, { each: true })
  IDP_ALGORITHMS: string[] = ['RS256', 'ES256'];

  /** Where an identity provider's tokens hold the caller's roles (a dotted path). */
  @Matches(/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/, {
    message: 'must be a claim name or a dotted path',
  })
  IDP_ROLES_CLAIM: string = 'roles';

  /** The window of the rate limits below. */
  @IsInt()
  @Min(1)
  @Max(3600)
  RATE_LIMIT_WINDOW_SECONDS: number = 60;

  /** Writes (POST, PUT, PATCH, DELETE) one caller (`sub`) may send per window, on each instance. */
  @IsInt()
  @Min(1)
  RATE_LIMIT_CALLER_WRITES: number = 600;

  /** Requests without a valid token one client address may send per window, on each instance. */
  @IsInt()
  @Min(1)
  RATE_LIMIT_ANONYMOUS_REQUESTS: number = 300;

  /**
   * Which proxies in front of the service to believe about the client's address
   * (X-Forwarded-For): `false`, `true` (any), or the proxies' addresses and CIDRs, of which
   * `loopback`, `uniquelocal` and `linklocal` name the usual ranges.
   */
  @Transform(({ value }) => trustProxy(value))
  @Holds(
    (value) => typeof value === 'boolean' || Array.isArray(value),
    'must be false, true, or a comma-separated list of addresses and CIDRs',
  )
  TRUST_PROXY: boolean | string[] = false;

  /** Origins whose browser pages may call the API (CORS), comma-separated; none when unset. */
  @Transform(commaList)
  @Matches(/^https?:\/\/[^/\s]+$/, {
    each: true,
    message: 'must be origins such as https://shop.example.com (scheme, host and port only)',
  })
  CORS_ORIGINS: string[] = [];

  /**
   * Connections the service keeps open to its database at most. N instances of the three services
   * hold up to 3 x N x this, which must stay below the server's max_connections (100 by default).
   */
  @IsInt()
  @Min(2)
  @Max(500)
  DATABASE_POOL_SIZE: number = 10;

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

  /**
   * Where traces go, over OTLP/HTTP (JSON): a collector, Jaeger or Tempo, such as
   * http://jaeger:4318. Tracing is off when it is unset.
   */
  @IsOptional()
  @IsConnectionUrl(['http:', 'https:'])
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** The service's name in traces: the service's own (order, inventory...) when unset. */
  @IsOptional()
  @Matches(/^[\w.-]{1,64}$/, { message: 'must be 1 to 64 letters, digits, ".", "_" or "-"' })
  OTEL_SERVICE_NAME?: string;

  /** The share of new traces recorded, 0 to 1; a caller's own sampling decision is followed. */
  @IsNumber({}, { message: 'must be a number from 0 to 1' })
  @Min(0)
  @Max(1)
  OTEL_TRACES_SAMPLER_ARG: number = 1;

  /** How long ended spans wait to be exported together. */
  @IsInt()
  @Min(10)
  @Max(60_000)
  OTEL_BSP_SCHEDULE_DELAY: number = 5000;

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
