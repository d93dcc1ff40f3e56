// Where the services' traces go while the saga is measured with --tracing: an OTLP/HTTP endpoint
// that reads each export and throws it away, as cheaply as it can (it runs on the measured
// machine, as a collector's receiver would), counting what it was sent.
import { createServer } from 'node:http';

export async function startOtlpSink() {
  const received = { exports: 0, bytes: 0 };
  const server = createServer((request, response) => {
    request.on('data', (chunk) => (received.bytes += chunk.length));
    request.on('end', () => {
      received.exports++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
