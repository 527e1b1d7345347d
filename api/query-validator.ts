// The validator of the routes whose query strings carry integers (a
// statement's and a dead-letter listing's `limit`). Query strings are text, so
// these routes coerce; the api's bodies never do (api/schemas.ts). Ajv's
// coercion takes any text JavaScript reads as a number: ' 5', '5 ', '+5',
// '05', '1e1', '0x10', '1.0'. The OpenAPI document says `integer`, and a
// client fuzzing it sends such text expecting 400; so an integer of a query is
// decimal digits only, checked before Ajv coerces it. `format` is checked as
// Fastify's own validator does (date-times), and defaults are filled.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { ajvOptions } from './schemas.js';

const coercing = new Ajv({ ...ajvOptions, coerceTypes: true, useDefaults: true });
(addFormats as unknown as (ajv: Ajv) => void)(coercing);

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The names of the properties `schema` declares as integers. */
export function integerProperties(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  return Object.entries(properties)
    .filter(([, property]) => property.type === 'integer')
    .map(([name]) => name);
}

/** The query's integers written otherwise than in decimal digits, as Ajv reports errors. */
export function undecimalIntegers(query: unknown, names: readonly string[]): ErrorObject[] {
  const values = (query ?? {}) as Record<string, unknown>;
  return names
    .filter((name) => typeof values[name] === 'string' && !DECIMAL.test(values[name] as string))
    .map((name) => ({ instancePath: `/${name}`, schemaPath: '#/properties/' + name + '/type', keyword: 'type', params: { type: 'integer' }, message: 'must be an integer written in decimal digits' }));
}

export const queryValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = coercing.compile(schema as object);
  if (httpPart !== 'querystring') return validate;
  const integers = integerProperties(schema);
  const strict = ((data: unknown, context?: object) => {
    const errors = undecimalIntegers(data, integers);
    strict.errors = errors.length > 0 ? errors : null;
    if (errors.length > 0) return false;
    const valid = context ? validate(data, context as never) : validate(data);
    strict.errors = validate.errors ?? null;
    return valid;
  }) as ValidateFunction;
  // Fastify hands Ajv's functions their parent (schemaEnv says which are Ajv's), so that coercion may change the root.
  Object.assign(strict, { schemaEnv: validate.schemaEnv });
  return strict;
};
