import { type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { ApiBody } from '@nestjs/swagger';
import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { type FieldError, validationProblem } from './validation.js';

/** What `@ApiBody({ schema })` takes: an OpenAPI schema object. */
type OpenApiSchema = Extract<Parameters<typeof ApiBody>[0], { schema: unknown }>['schema'];

// One compiler for every body schema: each is compiled once, when its route's module loads.
// `example` is OpenAPI's, for the document; ajv is told it is no validation keyword.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, keywords: ['example'] });

/**
 * A request body checked by a JSON Schema compiled to one function, for the hot routes where
 * class-validator's reflection over DTO instances shows in the profile. Made once per route, used
 * as `@Body(body) request: Shape` with `Shape` an interface (the global ValidationPipe only checks
 * classes, so it leaves the body alone) and documented with `@ApiBody({ schema: body.openApi })`.
 * Refusals are the ValidationPipe's: 400 `validation-failed`, each field
 * at fault named by its path (`items[0].quantity`), every problem at once, unknown fields refused.
 */
export class SchemaBody<T> implements PipeTransform<unknown, T> {
  private readonly validate;

  constructor(readonly schema: JSONSchemaType<T>) {
    this.validate = ajv.compile(schema);
  }

  /** The same schema, for the OpenAPI document (JSON Schema's keywords here are OpenAPI's too). */
  get openApi(): OpenApiSchema {
    return this.schema as OpenApiSchema;
  }

  transform(value: unknown, _metadata: ArgumentMetadata): T {
    if (this.validate(value)) return value;
    throw validationProblem(fieldErrorsOf(this.validate.errors ?? []));
  }
}

function fieldErrorsOf(errors: ErrorObject[]): FieldError[] {
  return errors.map((error) => {
    const at = fieldOf(error.instancePath);
    switch (error.keyword) {
      case 'additionalProperties':
        return { field: join(at, error.params.additionalProperty), message: 'is not allowed' };
      case 'required':
        return { field: join(at, error.params.missingProperty), message: 'is required' };
      case 'pattern': {
        // The schema's description says what the pattern means; the regex itself does not.
        const described = (error.parentSchema as { description?: string } | undefined)?.description;
        return {
          field: at || '(body)',
          message: described ? `must be ${described}` : error.message!,
        };
      }
      default:
        return { field: at || '(body)', message: error.message ?? 'is not valid' };
    }
  });
}

/** `/items/0/quantity` as a client writes it: `items[0].quantity`. */
function fieldOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, token) => (/^\d+$/.test(token) ? `${path}[${token}]` : join(path, token)), '');
}

function join(path: string, property: string): string {
  return path === '' ? property : `${path}.${property}`;
}
