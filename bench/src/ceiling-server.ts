import { createServer } from 'node:http';
import { VERIFY_RESPONSE as body } from './verify-response.ts';

/**
 * The ceiling for the API benchmark: a bare node:http server answering every request with a
 * constant JSON body of the verify response's size, after reading the request body.
 */
const port = Number(process.env.PORT ?? 0);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ listening: typeof address === 'object' && address ? address.port : port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
