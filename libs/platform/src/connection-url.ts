// Query parameters that carry a secret in a connection URL (libpq's, amqplib's, TLS key files').
const SECRET_PARAMETERS = /pass|secret|token|key/i;

/**
 * `postgres://user:***@host:port/db`: safe to print. A password may also come as a query
 * parameter (`?password=`, `?sslpassword=`, …): those are masked too.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) {
      if (SECRET_PARAMETERS.test(name)) parsed.searchParams.set(name, '***');
    }
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`The database URL ${redactUrl(url)} names no database`);
  return name;
}
