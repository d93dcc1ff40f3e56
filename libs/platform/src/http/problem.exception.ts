import { HttpException } from '@nestjs/common';

/**
 * Problem types are absolute URIs under this base: RFC 9457 recommends absolute URIs, since a
 * relative one resolves against whichever request returned it and clients compare them as text.
 */
export const PROBLEM_TYPE_BASE = 'https://ordering.example/problems/';

export function problemType(slug: string): string {
  return `${PROBLEM_TYPE_BASE}${slug}`;
}

/** An RFC 9457 problem details document, as every service answers an error. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** What code says about a problem; the status and the request path are added for it. */
export interface Problem {
  /** A short, stable slug such as `unknown-skus`: clients switch on it, so never reword one. */
  type: string;
  /** The same for every occurrence of this type. */
  title: string;
  /** This occurrence, in words a client developer can act on. */
  detail?: string;
  [extension: string]: unknown;
}

export interface ProblemOptions {
  /** Response headers the problem needs, such as `WWW-Authenticate` or `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
// Members the filter owns: an extension of the same name would contradict the response.
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance']);

/** An error answered as the problem it describes, extensions included, with `status`. */
export class ProblemException extends HttpException {
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, problem: Problem, options: ProblemOptions = {}) {
    if (!SLUG.test(problem.type)) {
      throw new Error(
        `A problem type is a lowercase slug such as "unknown-skus", not "${problem.type}"`,
      );
    }
    const body: ProblemDetails = { type: problemType(problem.type), title: problem.title, status };
    if (problem.detail !== undefined) body.detail = problem.detail;
    for (const [name, value] of Object.entries(problem)) {
      if (!RESERVED.has(name)) body[name] = value;
    }
    super(body, status, { cause: options.cause });
    this.message =
      problem.detail === undefined ? problem.title : `${problem.title}: ${problem.detail}`;
    this.headers = options.headers ?? {};
  }

  override getResponse(): ProblemDetails {
    return super.getResponse() as ProblemDetails;
  }
}

/** 400 for a request header that is not what it must be, naming it as the field at fault. */
export function invalidHeader(
  header: string,
  problem: { type: string; detail: string; message: string },
): ProblemException {
  return new ProblemException(400, {
    type: problem.type,
    title: `Invalid ${header} header`,
    detail: problem.detail,
    errors: [{ field: header, message: problem.message }],
  });
}
