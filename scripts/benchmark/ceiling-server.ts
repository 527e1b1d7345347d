// The ceiling's replica: a bare Fastify process that answers 200 to the same
// POSTs the stack serves, after validating the body against a small JSON
// schema, and does nothing else. Run as `node dist/scripts/benchmark/ceiling-server.js`
// with PORT; the benchmark starts as many as the stack has api replicas,
// behind an NGINX rendered from the stack's own template.
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('ceiling-server: set PORT\n');
  process.exit(2);
}

const txSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'amount', 'accountId'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
    type: { type: 'string', enum: ['deposit', 'withdraw_request', 'withdraw'] },
    amount: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    accountId: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' },
    timestamp: { anyOf: [{ type: 'string', maxLength: 64 }, { type: 'integer', minimum: 0 }] },
  },
} as const;

const depositSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'amount'],
  properties: { id: txSchema.properties.id, amount: txSchema.properties.amount },
} as const;

const answerSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, status: { type: 'string' } },
} as const;

// Same server settings as the api replicas (api/app.ts) where they bear on throughput.
const app = Fastify({ logger: false, bodyLimit: 16 * 1024, keepAliveTimeout: 72_000 });
app.post<{ Body: { id: string } }>('/transaction', { schema: { body: txSchema, response: { 200: answerSchema } } }, async (req) => ({
  id: req.body.id,
  status: 'applied',
}));
app.post<{ Body: { id: string } }>(
  '/v1/accounts/:accountId/deposits',
  { schema: { body: depositSchema, response: { 200: answerSchema } } },
  async (req) => ({ id: req.body.id, status: 'applied' }),
);
app.get('/healthz', async () => ({ status: 'ok' }));

const stop = () => {
  void app.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await app.listen({ host: '127.0.0.1', port });
