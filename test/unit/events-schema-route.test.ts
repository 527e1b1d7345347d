// GET /events.schema.json serves the ledger events' JSON Schema, public like
// /openapi.json: the document tests validate events with, byte for byte.
import { Ajv2020 } from 'ajv/dist/2020.js';
import t from 'tap';
import { ApiKeyAuth, parseApiKeys } from '../../api/auth.js';
import { eventOf, LEDGER_EVENT_SCHEMA } from '../../common/events.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { build } from '../helpers/in-memory-app.js';

const deposit = eventOf({
  _id: '0:7',
  id: 'd1',
  accountId: 'acct-1',
  type: 'deposit',
  amount: 100,
  status: 'applied',
  balanceAfter: 100,
  reservedAfter: 0,
  partition: 0,
  offset: 7,
  receivedAt: 1_700_000_000_000,
  decidedAt: 1_700_000_000_004,
});

t.test('the schema is served as application/schema+json, and validates events', async (t) => {
  const { app } = await build(t);
  const r = await app.inject({ method: 'GET', url: '/events.schema.json' });
  t.equal(r.statusCode, 200);
  t.match(r.headers['content-type'], /^application\/schema\+json/);
  const served = r.json();
  t.same(served, LEDGER_EVENT_SCHEMA, 'the schema of common/events.ts');
  const validate = new Ajv2020({ strict: true, validateFormats: false }).compile(served);
  t.ok(validate(deposit), 'an event conforms to the document served');
  t.notOk(validate({ ...deposit, balance: '100' }), 'a balance that is not an integer does not');
});

t.test('public when API keys are required, and not an operation of the OpenAPI document', async (t) => {
  const { app } = await build(t, { auth: new ApiKeyAuth(parseApiKeys(apiKeyEntry(mintKey(), ['acct-1']))) });
  t.equal((await app.inject({ method: 'GET', url: '/v1/accounts/acct-1' })).statusCode, 401, 'the accounts need a key');
  const r = await app.inject({ method: 'GET', url: '/events.schema.json' });
  t.equal(r.statusCode, 200, 'the schema does not');
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
  t.notOk('/events.schema.json' in document.paths);
});
