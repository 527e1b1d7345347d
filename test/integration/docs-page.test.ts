// The /docs page in a real browser, headless Chromium (scripts/install.sh
// installs Debian's chromium; without it this file fails, naming the fix),
// through NGINX: the page lists every operation of the document under its tag,
// and a deposit tried out on the page ("Try it out", a body with a fresh id,
// "Execute") lands in the ledger, as the account and the statement read through
// the api show. The browser reaches loopback only, and the page asks for
// nothing that is not the replica's own. With API keys, the page's call is
// refused until the key is given through "Authorize", and then applied once.
import t, { type Test } from 'tap';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { Browser } from '../helpers/browser.js';
import type { BrowserPage } from '../helpers/browser-page.js';
import { startApiReplica, startNginx, type Front } from '../helpers/front.js';
import { uniq } from '../helpers/http.js';
import { baseUrl, waitFor } from '../helpers/stack.js';
import { authorize, listedOperations, tryOut } from '../helpers/swagger-ui.js';
import { call, v1 } from '../helpers/v1.js';

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
const DEPOSIT = 'POST /v1/accounts/{accountId}/deposits';
const TRANSFERS = ['POST /v1/transfers', 'GET /v1/transfers/{id}', 'POST /v1/transfers/{id}/post', 'POST /v1/transfers/{id}/void'];

const browser = await Browser.launch();
t.teardown(() => browser.close());
t.comment(browser.version);

type Document = { paths: Record<string, Record<string, { tags?: string[] }>> };

/** Every operation of the document as `tag: METHOD /path`. */
async function documentedOperations(front: string): Promise<string[]> {
  const document = (await (await fetch(`${front}/openapi.json`)).json()) as Document;
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, operation]) => `${operation.tags?.[0] ?? 'default'}: ${method.toUpperCase()} ${path}`),
  );
}

/** A new tab on the page at `front`, once the page has listed the operations. */
async function openDocs(front: string): Promise<BrowserPage> {
  const page = await browser.newPage();
  await page.goto(`${front}/docs`);
  await listedOperations(page);
  return page;
}

/** The page asked for nothing but `front`'s own URLs, and ran without an error. */
function checkOffline(t: Test, page: BrowserPage, front: string, expectedErrors: RegExp[] = []): void {
  t.same(page.refused, [], 'the page asked for nothing outside loopback');
  const foreign = page.requested.filter((url) => new URL(url).origin !== front);
  t.same(foreign, [], `every request went to ${front} (${page.requested.length} requests)`);
  const unexpected = page.errors.filter((error) => !expectedErrors.some((expected) => expected.test(error)));
  t.same(unexpected, [], 'no script error, console error or policy violation on the page');
}

t.test('the page lists every operation of the document, under its tag', async (t) => {
  const page = await openDocs(baseUrl);
  const listed = (await listedOperations(page)).map(({ tag, name }) => `${tag}: ${name}`);
  const documented = await documentedOperations(baseUrl);
  t.ok(documented.length >= 20, `the document has ${documented.length} operations`);
  t.same([...listed].sort(), [...documented].sort(), 'the page lists exactly the operations of the document');
  t.ok(listed.includes(`transactions: ${DEPOSIT}`), `${DEPOSIT} is listed under transactions`);
  for (const transfer of TRANSFERS) t.ok(listed.includes(`transfers: ${transfer}`), `${transfer} is listed under transfers`);
  checkOffline(t, page, baseUrl);
});

t.test('a deposit tried out on the page lands in the ledger', async (t) => {
  const accountId = uniq('docs-page');
  const id = `${accountId}-deposit`;
  const amount = 4321;
  const page = await openDocs(baseUrl);
  const shown = await tryOut(page, DEPOSIT, { parameters: { accountId }, body: JSON.stringify({ id, amount }, null, 2) });

  t.equal(shown.status, 200, 'the page shows 200');
  t.equal(shown.requestUrl, `${baseUrl}/v1/accounts/${accountId}/deposits`, 'the page called the api through NGINX');
  t.match(JSON.parse(shown.body), { id, accountId, type: 'deposit', status: 'applied', amount, balance: amount, reserved: 0 }, 'the page shows the applied deposit');

  const account = await v1.account(accountId);
  t.equal(account.status, 200, 'the account exists');
  t.match(account.body, { accountId, balance: amount, reserved: 0, available: amount }, 'its balance is the deposit');
  t.match((await v1.transaction(id)).body, { id, accountId, status: 'applied', amount }, 'the decision, by id');
  // The statement reads the ledger itself (MongoDB), a few milliseconds behind the answer.
  const entries = await waitFor(
    async () => {
      const statement = await v1.statement(accountId);
      return statement.status === 200 && statement.body.data.length > 0 ? (statement.body.data as object[]) : undefined;
    },
    { what: `${id} in the statement`, timeoutMs: 20_000 },
  );
  t.equal(entries.length, 1, 'the ledger holds one entry for the account');
  t.match(entries[0], { id, type: 'deposit', status: 'applied', amount, balanceAfter: amount }, 'the deposit');
  checkOffline(t, page, baseUrl);
});

t.test('with API keys, the page calls with the key "Authorize" was given', async (t) => {
  const key = mintKey();
  const fronts: Front[] = [];
  t.teardown(async () => {
    for (const front of fronts.reverse()) await front.stop();
  });
  const replica = await startApiReplica({ API_KEYS: apiKeyEntry(key) }, `api-docs-page-${process.pid}`);
  fronts.push(replica);
  const nginx = await startNginx({}, [replica.port]);
  fronts.push(nginx);
  const accountId = uniq('docs-page-keyed');
  const deposit = { parameters: { accountId }, body: JSON.stringify({ id: `${accountId}-deposit`, amount: 250 }) };
  const readAccount = () => call('GET', `/v1/accounts/${accountId}`, undefined, { authorization: `Bearer ${key}` }, nginx.url);

  const withoutKey = await openDocs(nginx.url);
  const refused = await tryOut(withoutKey, DEPOSIT, deposit);
  t.equal(refused.status, 401, 'without a key the page shows 401');
  t.match(JSON.parse(refused.body), { status: 401, type: 'urn:teller:problem:unauthorized' });
  t.equal((await readAccount()).status, 404, 'nothing was applied');
  // The browser reports the 401 it was answered as a failed load.
  checkOffline(t, withoutKey, nginx.url, [/status of 401/]);

  const withKey = await openDocs(nginx.url);
  await authorize(withKey, key);
  const applied = await tryOut(withKey, DEPOSIT, deposit);
  t.equal(applied.status, 200, 'with the key the page shows 200');
  t.match(JSON.parse(applied.body), { accountId, status: 'applied', balance: 250 });
  t.match((await readAccount()).body, { accountId, balance: 250 }, 'applied once');
  checkOffline(t, withKey, nginx.url);
});

t.test('the browser refuses, and records, a request outside loopback', async (t) => {
  // The check the tests above rely on, shown to catch what it should.
  const page = await browser.newPage();
  const outside = 'http://teller.invalid/';
  await t.rejects(page.goto(outside), /ERR_BLOCKED_BY_CLIENT/, 'the request is refused');
  t.same(page.refused, [outside], 'and recorded');
});
