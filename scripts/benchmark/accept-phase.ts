// The accept phase: deposits with `Prefer: respond-async`, answered 202 once
// Kafka has them; skipped while the stack has no such route.
import { probeAccept } from './accept-probe.js';
import { acceptShape } from './autocannon-load.js';
import { contractFlow, type BenchContext } from './bench-context.js';
import { emptyPhase, type PhaseResult } from './bench-result.js';
import { requireStackUp, stackTracked } from './bench-stack.js';
import { loadPhase } from './load-phase.js';

export async function acceptPhase(ctx: BenchContext): Promise<PhaseResult> {
  await requireStackUp(ctx.stack.info);
  const probe = await probeAccept(ctx.stack.info.url);
  const description = 'deposits over POST /v1/accounts/:id/deposits with Prefer: respond-async (202 once Kafka has them)';
  if (!probe.present) return { ...emptyPhase('accept', description), skipped: true, reason: probe.reason };
  return loadPhase(ctx, {
    name: 'accept',
    description,
    url: ctx.stack.info.url,
    keepAlive: true,
    shape: acceptShape,
    flow: contractFlow(ctx, 'ac', 3, 'deposits'),
    tracked: () => stackTracked(ctx.stack.info),
    live: true,
    ratioOf: 'ceiling',
  });
}
