import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';

export const IS_PUBLIC = 'ordering:public';

/**
 * Lets a route, or every route of a controller, be called without a bearer token. The OpenAPI
 * document says so too: an empty security requirement overrides the document-wide one.
 */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), ApiSecurity({}));
