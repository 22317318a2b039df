import { createServer } from 'node:http';

/**
 * The ceiling for the API benchmark: a bare node:http server answering every request with a
 * constant JSON body of the verify response's size, after reading the request body.
 */
const body = JSON.stringify({
  status: 'Success',
  data: {
    status: 'NORMAL',
    requestId: '00000000-0000-4000-8000-000000000000',
    verificationStatus: 'VERIFIED',
    reassignmentDate: null,
    verificationTimestamp: '2025-09-09T10:37:33.000Z',
    occurrenceOfStatusDate: '2025-09-09',
    mobileNetwork: 'MTN',
    msisdn: '08031234567',
    errorMessage: null,
  },
  statusCode: '200',
});
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
