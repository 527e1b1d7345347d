// The /docs page (Swagger UI, api/openapi.ts) as a reader uses it, in a
// headless browser tab (test/helpers/browser-page.ts): the operations it
// lists, and one operation tried out (expand it, "Try it out", fill its
// parameters and body, "Execute") with the answer the page then shows.
import type { BrowserPage } from './browser-page.js';

/** An operation as the page lists it: `POST /v1/transfers`. */
export type OperationName = `${string} ${string}`;

export interface TryOut {
  /** Parameters (path, query, header) by name, typed into their fields. */
  parameters?: Record<string, string>;
  /** The request body, typed over the example the page offers. */
  body?: string;
}

export interface ShownAnswer {
  /** The status the page shows under "Server response". */
  status: number;
  /** The response body as the page shows it. */
  body: string;
  /** The URL the page says it called. */
  requestUrl: string;
}

export interface ListedOperation {
  /** The tag whose section lists it. */
  tag: string;
  name: OperationName;
}

/** Waits until the page has read the document and listed its operations; answers them, in the page's order. */
export async function listedOperations(page: BrowserPage): Promise<ListedOperation[]> {
  await page.waitUntil(`document.querySelectorAll('.opblock-tag-section .opblock').length > 0`, 'the page lists operations');
  return page.evaluate(
    `[...document.querySelectorAll('.opblock-tag-section')].flatMap((section) =>
      [...section.querySelectorAll('.opblock')].map((block) => ({
        tag: section.querySelector('.opblock-tag').getAttribute('data-tag'),
        name: block.querySelector('.opblock-summary-method').textContent.trim() + ' ' + block.querySelector('.opblock-summary-path').getAttribute('data-path'),
      })))`,
  );
}

/** A CSS selector for the operation's block on the page; throws when the page does not list it. */
async function operationBlock(page: BrowserPage, name: OperationName): Promise<string> {
  const [method, path] = name.split(' ') as [string, string];
  const selector = await page.evaluate<string | null>(
    `(() => {
      const block = [...document.querySelectorAll('.opblock')].find((b) =>
        b.querySelector('.opblock-summary-method').textContent.trim() === ${JSON.stringify(method)} &&
        b.querySelector('.opblock-summary-path').getAttribute('data-path') === ${JSON.stringify(path)});
      return block ? '#' + CSS.escape(block.id) : null;
    })()`,
  );
  if (!selector) throw new Error(`the page does not list ${name}`);
  return selector;
}

/**
 * Opens the operation, presses "Try it out", fills what `input` gives, presses
 * "Execute" and answers what the page shows: once per operation and page, since
 * the page then shows that answer until the next one replaces it.
 */
export async function tryOut(page: BrowserPage, name: OperationName, input: TryOut): Promise<ShownAnswer> {
  const block = await operationBlock(page, name);
  await page.click(`${block} .opblock-summary-control`);
  await page.click(`${block} .try-out__btn`);
  for (const [parameter, value] of Object.entries(input.parameters ?? {})) {
    await page.fill(`${block} tr[data-param-name=${JSON.stringify(parameter)}] input`, value);
  }
  if (input.body !== undefined) await page.fill(`${block} textarea.body-param__text`, input.body);
  await page.click(`${block} .execute`);
  const answer = `${block} .live-responses-table tbody tr.response`;
  // The status cell holds the code, then "Undocumented" when the document does not list it.
  const status = await page.waitUntil<string>(
    `document.querySelector(${JSON.stringify(`${answer} .response-col_status`)})?.textContent.match(/^\\s*(\\d{3})/)?.[1]`,
    `the page shows the answer to ${name}`,
  );
  const body = await page.evaluate<string | null>(`document.querySelector(${JSON.stringify(`${answer} .highlight-code pre`)})?.textContent ?? null`);
  const requestUrl = await page.evaluate<string | null>(`document.querySelector(${JSON.stringify(`${block} .request-url pre`)})?.textContent ?? null`);
  return { status: Number(status), body: body ?? '', requestUrl: requestUrl ?? '' };
}

/** Presses "Authorize", types `key` as the bearer key, confirms and closes the dialog. */
export async function authorize(page: BrowserPage, key: string): Promise<void> {
  await page.click('.auth-wrapper .authorize');
  await page.fill('.modal-ux #auth-bearer-value', key);
  await page.click('.modal-ux .auth-btn-wrapper button.authorize');
  // Once it holds a key the dialog offers to remove it instead.
  await page.waitUntil(`document.querySelector('.modal-ux button[aria-label="Remove authorization"]') !== null`, 'the page holds the key');
  await page.click('.modal-ux .btn-done');
  await page.waitUntil(`document.querySelector('.modal-ux') === null`, 'the dialog closed');
}
