// OpenAPI documents are JSON of any shape: `any` keeps the walk readable.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Every input of an OpenAPI document that has no documented bound: a string without maxLength
 * (or an enum, a uuid/date-time format, or a pattern that bounds its length), a number without
 * maximum, an array without maxItems. Each is named by where it is (operation and field).
 */
export function unboundedInputs(document: any): string[] {
  const found: string[] = [];
  const resolve = (schema: any): any =>
    schema?.$ref ? resolve(document.components.schemas[schema.$ref.split('/').pop()]) : schema;

  const walk = (schema: any, where: string): void => {
    const resolved = resolve(schema);
    if (!resolved) return;
    for (const alternative of [...(resolved.allOf ?? []), ...(resolved.oneOf ?? [])]) {
      walk(alternative, where);
    }
    switch (resolved.type) {
      case 'string':
        if (
          resolved.maxLength === undefined &&
          resolved.enum === undefined &&
          !['uuid', 'date-time'].includes(resolved.format) &&
          !/\{\d+,\d+\}\$$|^\^\[[^\]]+\]\{\d+\}\$$/.test(resolved.pattern ?? '')
        ) {
          found.push(`${where}: a string without maxLength`);
        }
        break;
      case 'integer':
      case 'number':
        if (resolved.maximum === undefined && resolved.enum === undefined) {
          found.push(`${where}: a number without maximum`);
        }
        break;
      case 'array':
        if (resolved.maxItems === undefined) found.push(`${where}: an array without maxItems`);
        walk(resolved.items, `${where}[]`);
        break;
      default:
        for (const [name, property] of Object.entries(resolved.properties ?? {})) {
          walk(property, `${where}.${name}`);
        }
    }
  };

  for (const [path, operations] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(operations)) {
      const name = `${method.toUpperCase()} ${path}`;
      for (const parameter of operation.parameters ?? []) {
        walk(parameter.schema, `${name} ${parameter.in} ${parameter.name}`);
      }
      for (const content of Object.values<any>(operation.requestBody?.content ?? {})) {
        walk(content.schema, `${name} body`);
      }
    }
  }
  return found;
}
