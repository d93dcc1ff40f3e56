import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** The name of the security scheme that `@ApiBearerAuth()` refers to by default. */
export const BEARER_AUTH = 'bearer';

export interface OpenApiInfo {
  title: string;
  description: string;
  version: string;
}

/**
 * Serves the service's OpenAPI document at `/docs-json` and Swagger UI at `/docs`. These are
 * plain Fastify routes, not controllers, so the bearer guard never sees them: they stay open.
 * Every operation requires a bearer token unless marked `@Public()`.
 */
export function setUpOpenApi(app: INestApplication, info: OpenApiInfo): void {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setDescription(info.description)
    .setVersion(info.version)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'An HS256 token; for local use, `npm run token -- <customerId> [--admin]`.',
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
