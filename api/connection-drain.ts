// Draining a replica behind NGINX. Once close() begins, Fastify answers 503 to
// a request that arrives on a connection still open, and NGINX, which keeps its
// upstream connections alive, would pass that 503 to the client. So every
// answer given while closing says `Connection: close`: NGINX sends nothing more
// on that connection, and its next attempt finds the port closed and goes to
// another replica (proxy_next_upstream error).
import type { FastifyInstance } from 'fastify';

export function installConnectionDrain(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback style: on the path of every answer, without a promise of its own.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}
