// The contract phases: the card-processor flow over POST /transaction against
// the live stack, with keep-alive (contract) and with a new connection per
// call as ApacheBench sends calls (contract-ab), each against its ceiling; and
// transfers between the same accounts over POST /v1/transfers (transfers).
import { contractShape, transferShape } from './autocannon-load.js';
import { contractFlow, type BenchContext } from './bench-context.js';
import type { PhaseResult } from './bench-result.js';
import { stackTracked } from './bench-stack.js';
import { loadPhase } from './load-phase.js';

export function contractPhase(ctx: BenchContext): Promise<PhaseResult> {
  const description = `deposits, withdrawal requests and a withdrawal after every approval over ${ctx.opts.accounts.toLocaleString('en-US')} accounts, keep-alive`;
  return loadPhase(ctx, {
    name: 'contract',
    description,
    url: ctx.stack.info.url,
    keepAlive: true,
    shape: contractShape,
    flow: contractFlow(ctx, 'c', 1),
    tracked: () => stackTracked(ctx.stack.info),
    live: true,
    ratioOf: 'ceiling',
  });
}

export function contractAbPhase(ctx: BenchContext): Promise<PhaseResult> {
  return loadPhase(ctx, {
    name: 'contract-ab',
    description: 'the contract flow with a new connection per call (Connection: close), as ApacheBench sends calls',
    url: ctx.stack.info.url,
    keepAlive: false,
    shape: contractShape,
    flow: contractFlow(ctx, 'cab', 2),
    tracked: () => stackTracked(ctx.stack.info),
    live: true,
    ratioOf: 'ceiling-ab',
  });
}

/**
 * Transfers between random accounts of the flow's, each answered after both
 * legs (docs/transfers.md), against the same ceiling as the contract. The
 * accounts hold what the settle and contract phases deposited; a transfer the
 * funds do not cover is a 402, a decision like any other.
 */
export function transfersPhase(ctx: BenchContext): Promise<PhaseResult> {
  return loadPhase(ctx, {
    name: 'transfers',
    description: `transfers of 1 to 20 units between random accounts of the ${ctx.opts.accounts.toLocaleString('en-US')}, answered after both legs, keep-alive`,
    url: ctx.stack.info.url,
    keepAlive: true,
    shape: transferShape,
    flow: contractFlow(ctx, 't', 3, 'transfers'),
    tracked: () => stackTracked(ctx.stack.info),
    live: true,
    ratioOf: 'ceiling',
  });
}
