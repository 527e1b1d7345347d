// The resource API, /v1 (README.md, The resource API): one plugin per route group.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ReadModel } from '../../readmodel.js';
import type { Statements } from '../../statement.js';
import type { TransactionSubmitter } from '../../submit.js';
import { accountRoutes } from './accounts.js';
import { depositRoutes } from './deposits.js';
import { statementRoutes } from './statements.js';
import { transactionRoutes } from './transactions.js';
import { withdrawalRequestRoutes } from './withdrawal-requests.js';
import { withdrawalRoutes } from './withdrawals.js';

export interface V1Options {
  submitter: TransactionSubmitter;
  readModel: ReadModel;
  statements: Statements;
  mayAccess?: (request: FastifyRequest, accountId: string) => boolean;
}

export const v1Routes: FastifyPluginAsync<V1Options> = async (app, o) => {
  await app.register(depositRoutes, { submitter: o.submitter });
  await app.register(withdrawalRequestRoutes, { submitter: o.submitter });
  await app.register(withdrawalRoutes, { submitter: o.submitter });
  await app.register(accountRoutes, { readModel: o.readModel });
  await app.register(statementRoutes, { statements: o.statements, readModel: o.readModel });
  await app.register(transactionRoutes, { readModel: o.readModel, ...(o.mayAccess ? { mayAccess: o.mayAccess } : {}) });
};
