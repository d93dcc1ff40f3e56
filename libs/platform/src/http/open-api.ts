import type { INestApplication } from '@nestjs/common';
import { maxHeaderSize } from 'node:http';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from './json-body.js';

/** The name of the security scheme that `@ApiBearerAuth()` refers to by default. */
export const BEARER_AUTH = 'bearer';

export interface OpenApiInfo {
  title: string;
  description: string;
  version: string;
}

/** What every operation takes at most, beyond each field's bounds in its schema. */
const LIMITS = [
  '**Limits**, each refused with problem details:',
  `a body of at most ${MAX_BODY_BYTES / 1024} KiB, inflated (413 payload-too-large);`,
  `JSON nested at most ${MAX_JSON_DEPTH} levels (400 json-too-deep);`,
  `headers of at most ${maxHeaderSize / 1024} KiB in all (431 headers-too-large);`,
  'per caller, a rate of writes, and per address, a rate of requests without a valid token',
  '(429 too-many-requests, with Retry-After).',
].join(' ');

/**
 * Serves the service's OpenAPI document at `/docs-json` and Swagger UI at `/docs`. These are
 * plain Fastify routes, not controllers, so the bearer guard never sees them: they stay open.
 * Every operation requires a bearer token unless marked `@Public()`.
 */
export function setUpOpenApi(app: INestApplication, info: OpenApiInfo): void {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setDescription(`${info.description}\n\n${LIMITS}`)
    .setVersion(info.version)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          "A JWT with exp, aud and iss: this system's HS256 tokens or an identity provider's " +
          'RS256/ES256 ones; for local use, `npm run token -- <customerId> [--admin]`.',
      },
      BEARER_AUTH,
    )
    .addSecurityRequirements(BEARER_AUTH)
    .build();
  // A factory, so the document is built on first request, once every module has its routes.
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), {
    swaggerOptions: { persistAuthorization: true },
  });
}
