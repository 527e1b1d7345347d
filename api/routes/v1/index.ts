// The resource API, /v1 (README.md, The resource API): one plugin per route group.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AccountHistory } from '../../account-history.js';
import type { Cuts } from '../../cuts.js';
import type { Explanations } from '../../explanations.js';
import type { ReadModel } from '../../readmodel.js';
import type { Statements } from '../../statement.js';
import type { TransactionSubmitter } from '../../submit.js';
import { TransferSubmitter } from '../../transfer-submit.js';
import type { WebhookRegistry } from '../../webhook-registry.js';
import { accountSettingsRoutes } from './account-settings.js';
import { accountRoutes } from './accounts.js';
import { cutRoutes } from './cuts.js';
import { depositRoutes } from './deposits.js';
import { explanationRoutes } from './explanations.js';
import { reversalRoutes } from './reversals.js';
import { statementRoutes } from './statements.js';
import { transactionStatusRoutes } from './transactions.js';
import { transferRoutes } from './transfers.js';
import { transferSettlementRoutes } from './transfer-settlements.js';
import { webhookRoutes } from './webhooks.js';
import { withdrawalRequestRoutes } from './withdrawal-requests.js';
import { withdrawalRoutes } from './withdrawals.js';

export interface V1Options {
  submitter: TransactionSubmitter;
  readModel: Pick<ReadModel, 'account' | 'transaction' | 'accountTransaction' | 'settlement'>;
  statements: Pick<Statements, 'page'>;
  history: Pick<AccountHistory, 'asOf'>;
  cuts: Pick<Cuts, 'take' | 'get' | 'account'>;
  /** Replays of decisions; without them (an app without Kafka, in tests) the explanation routes are not served. */
  explanations?: Pick<Explanations, 'explain'>;
  mayAccess?: (request: FastifyRequest, accountId: string) => boolean;
  mayAccessEveryAccount?: (request: FastifyRequest) => boolean;
  /** Webhook endpoints (docs/webhooks.md); without it, /v1/webhooks is not served. */
  webhooks?: WebhookRegistry;
}

export const v1Routes: FastifyPluginAsync<V1Options> = async (app, options) => {
  const { submitter, readModel, statements, history, cuts, explanations, mayAccess, mayAccessEveryAccount, webhooks } = options;
  await app.register(depositRoutes, { submitter });
  await app.register(withdrawalRequestRoutes, { submitter });
  await app.register(withdrawalRoutes, { submitter });
  await app.register(accountRoutes, { readModel, history });
  await app.register(accountSettingsRoutes, { submitter, readModel });
  // A repeated transfer's credit is read back from where lookups read outcomes: the read model, else the ledger.
  const transfers = new TransferSubmitter(submitter, {
    readOutcome: async (accountId, id) => (await readModel.accountTransaction(accountId, id))?.outcome ?? null,
  });
  await app.register(transferRoutes, { transfers, readModel, ...(mayAccess ? { mayAccess } : {}) });
  await app.register(transferSettlementRoutes, { transfers, readModel, ...(mayAccess ? { mayAccess } : {}) });
  await app.register(statementRoutes, { statements, readModel });
  await app.register(cutRoutes, { cuts, ...(mayAccessEveryAccount ? { mayAccessEveryAccount } : {}) });
  await app.register(transactionStatusRoutes, { readModel, ...(mayAccess ? { mayAccess } : {}) });
  await app.register(reversalRoutes, { submitter, readModel, ...(mayAccess ? { mayAccess } : {}) });
  if (webhooks) await app.register(webhookRoutes, { registry: webhooks, ...(mayAccess ? { mayAccess } : {}), ...(mayAccessEveryAccount ? { mayAccessEveryAccount } : {}) });
  if (explanations) await app.register(explanationRoutes, { explanations, ...(mayAccess ? { mayAccess } : {}) });
};
