// Calls of the v1 resource API for tests, through NGINX unless a base URL is given.
import { request as call } from './http.js';

export { call };

const acct = (a: string) => `/v1/accounts/${encodeURIComponent(a)}`;

export const v1 = {
  deposit: (a: string, body: object, headers?: Record<string, string>) => call('POST', `${acct(a)}/deposits`, body, headers),
  request: (a: string, body: object, headers?: Record<string, string>) => call('POST', `${acct(a)}/withdrawal-requests`, body, headers),
  withdraw: (a: string, body: object, headers?: Record<string, string>) => call('POST', `${acct(a)}/withdrawals`, body, headers),
  cancel: (a: string, requestId: string, body: object, headers?: Record<string, string>) =>
    call('POST', `${acct(a)}/withdrawal-requests/${encodeURIComponent(requestId)}/cancel`, body, headers),
  account: (a: string) => call('GET', acct(a)),
  statement: (a: string, query = '') => call('GET', `${acct(a)}/transactions${query}`),
  transaction: (id: string) => call('GET', `/v1/transactions/${encodeURIComponent(id)}`),
  transfer: (body: object, headers?: Record<string, string>) => call('POST', '/v1/transfers', body, headers),
  transferState: (id: string) => call('GET', `/v1/transfers/${encodeURIComponent(id)}`),
  settings: (a: string, body: object, headers?: Record<string, string>) => call('PUT', acct(a), body, headers),
  reversal: (id: string, body: object) => call('POST', `/v1/transactions/${encodeURIComponent(id)}/reversal`, body),
};
