import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { HttpStatus } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from './problem.exception.js';

/** Request bodies larger than this are refused with 413 before any parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * How deeply a JSON body may nest. Ours nest three levels; a body nested thousands deep (64 KiB
 * of "[") would overflow the stack of what walks it next (validation, transformation): a 500.
 */
export const MAX_JSON_DEPTH = 32;

/** The media types read as JSON: `application/json` and any `application/<something>+json`. */
export const JSON_CONTENT_TYPES = ['application/json', /^application\/[\w.-]+\+json(;|$)/] as const;

const INFLATE: Record<string, (body: Buffer, options: { maxOutputLength: number }) => Buffer> = {
  gzip: gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/**
 * Reads a JSON body, compressed or not: a syntax error is answered with where it is (line and
 * column, which people editing a body think in), an inflated body over the limit with 413 (so a
 * small compressed body cannot expand into a large one), an unknown encoding with 415.
 */
// Async because the adapter takes a parser's value from its promise (or from `done`).
export async function parseJsonBody(request: FastifyRequest, body: Buffer): Promise<unknown> {
  const text = inflated(request.headers['content-encoding'], body).toString('utf8');
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new ProblemException(HttpStatus.BAD_REQUEST, {
      type: 'json-too-deep',
      title: 'JSON nested too deeply',
      detail: `The request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`,
      maxDepth: MAX_JSON_DEPTH,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ProblemException(HttpStatus.BAD_REQUEST, {
      type: 'malformed-json',
      title: 'Malformed JSON',
      detail: `The request body is not valid JSON: ${message}${lineAndColumn(message, text)}.`,
    });
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENING = new Set([0x5b, 0x7b]); // [ {
const CLOSING = new Set([0x5d, 0x7d]); // ] }

/** Whether brackets outside strings nest deeper than `limit`: one pass, before parsing. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (OPENING.has(code)) {
      if (++depth > limit) return true;
    } else if (CLOSING.has(code)) {
      depth--;
    }
  }
  return false;
}

function inflated(encoding: string | string[] | undefined, body: Buffer): Buffer {
  const name = (Array.isArray(encoding) ? encoding.join(',') : (encoding ?? 'identity'))
    .trim()
    .toLowerCase();
  if (name === 'identity' || name === '') return body;
  const inflate = INFLATE[name];
  if (inflate === undefined) {
    throw new ProblemException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, {
      type: 'unsupported-media-type',
      title: 'Unsupported media type',
      detail: `Unsupported content encoding "${name}"; send the body as UTF-8 JSON, uncompressed or gzip/deflate/br.`,
    });
  }
  try {
    return inflate(body, { maxOutputLength: MAX_BODY_BYTES });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw payloadTooLarge(undefined);
    throw new ProblemException(HttpStatus.BAD_REQUEST, {
      type: 'malformed-body',
      title: 'Malformed body',
      detail: `The request body is not valid ${name} data.`,
    });
  }
}

/** 413 naming the limit; `length` is the announced one (a chunked body announces none). */
export function payloadTooLarge(length: number | undefined): ProblemException {
  return new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, {
    type: 'payload-too-large',
    title: 'Payload too large',
    detail:
      `The request body${length === undefined ? '' : ` (${length} bytes)`} is ` +
      `over the limit of ${kibibytes(MAX_BODY_BYTES)} (${MAX_BODY_BYTES} bytes).`,
    maxBytes: MAX_BODY_BYTES,
  });
}

function kibibytes(bytes: number): string {
  return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
}

/** V8 names a character offset. */
function lineAndColumn(message: string, body: string): string {
  const position = /at position (\d+)/.exec(message);
  if (!position) return '';
  const before = body.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}
