import { ApiParam, type SchemaObject } from '@nestjs/swagger';
import {
  HttpStatus,
  Param,
  ParseUUIDPipe,
  type PipeTransform,
  ValidationPipe,
} from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { ProblemException } from './problem.exception.js';

/** One reason a request was refused, at the path a client would write: `items[0].quantity`. */
export interface FieldError {
  field: string;
  message: string;
}

/** A 400 `validation-failed` problem listing each field at fault. */
export function validationProblem(errors: FieldError[]): ProblemException {
  return new ProblemException(HttpStatus.BAD_REQUEST, {
    type: 'validation-failed',
    title: 'Validation failed',
    detail: errors.map(({ field, message }) => `${field} ${message}`).join('; '),
    errors,
  });
}

/**
 * The one validation of request DTOs: unknown fields are refused rather than dropped, so a
 * misspelt optional field is not silently ignored, and every problem is reported at once.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    // Values are kept so that an array can be told from an object when paths are written.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => validationProblem(fieldErrors(errors)),
  });
}

export function fieldErrors(
  errors: ValidationError[],
  parent?: ValidationError,
  at = '',
): FieldError[] {
  return errors.flatMap((error) => {
    const field = pathOf(error.property, parent, at);
    const own = Object.entries(error.constraints ?? {}).map(([constraint, text]) => ({
      field: field || '(body)',
      message:
        constraint === 'whitelistValidation'
          ? 'is not allowed'
          : withoutProperty(text, error.property),
    }));
    return [...own, ...fieldErrors(error.children ?? [], error, field)];
  });
}

function pathOf(property: string | undefined, parent: ValidationError | undefined, at: string) {
  // forbidUnknownValues reports an object nobody described on the object itself, unnamed.
  if (property === undefined || property === '') return at;
  if (Array.isArray(parent?.value)) return `${at}[${property}]`;
  return at === '' ? property : `${at}.${property}`;
}

// class-validator's own messages open with the property name, which `field` already gives.
function withoutProperty(text: string, property: string): string {
  return text.startsWith(`${property} `) ? text.slice(property.length + 1) : text;
}

/**
 * `@Param(name, ParseUUIDPipe)` that names the parameter when refusing a value: Nest's pipe
 * only says a UUID was expected, not which one, and a route can have several.
 */
export function UuidParam(name: string): ParameterDecorator {
  return PathParam(
    name,
    { type: 'string', format: 'uuid' },
    new ParseUUIDPipe({
      exceptionFactory: () => validationProblem([{ field: name, message: 'must be a UUID' }]),
    }),
  );
}

/**
 * A path parameter read through `pipe` (which refuses what does not fit), documented in the
 * OpenAPI document with `schema`, its bounds included, so the two are written in one place.
 */
export function PathParam(
  name: string,
  schema: SchemaObject,
  pipe: PipeTransform<string>,
): ParameterDecorator {
  const param = Param(name, pipe);
  const documented = ApiParam({ name, schema });
  return (target, method, index) => {
    param(target, method, index);
    // The document reads a route's parameters from its method.
    documented(target, method!, Object.getOwnPropertyDescriptor(target, method!)!);
  };
}
