// Webhook signing (common/webhooks.ts) against signatures computed outside
// this code, with openssl and python, and the verifier receivers are shown
// (docs/webhooks.md): it accepts what is signed and refuses any change.
import t from 'tap';
import { newSecret, SECRET_PREFIX, sign, signatureHeaders, signingKey, verifyProblem, webhookUrlProblem } from '../../common/webhooks.js';

// The Standard Webhooks specification's own example, recomputed:
//   printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' \
//     | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf %s MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c 256) -binary | base64
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

// A Teller event (docs/events.md's example) under a 32-byte secret, 0x00..0x1f:
//   python3 -c 'import hmac,hashlib,base64,sys; k=bytes(range(32)); m=b"3:1842.1735725600."+sys.argv[1].encode();
//     print(base64.b64encode(hmac.new(k,m,hashlib.sha256).digest()).decode())' "$BODY"
// and the same with `openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1e1f -binary | base64`.
const TELLER = {
  secret: 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
  id: '3:1842',
  timestamp: 1735725600,
  body: '{"v":1,"eventId":"3:1842","type":"transfer.debited","accountId":"alice","transactionId":"t-77","amount":2500,"status":"applied","balance":7500,"reserved":0,"occurredAt":"2025-01-01T10:00:00.123Z","partition":3,"offset":1842,"counterparty":"bob","reference":"invoice-9"}',
  signature: 'v1,Rlw03xlhxxYdngS2D0GX/jeBryJQCfV8IpQwcoJtDsk=',
};

t.test('signatures equal those computed independently', async (t) => {
  for (const vector of [SPEC, TELLER]) {
    t.equal(sign(vector.secret, vector.id, vector.timestamp, vector.body), vector.signature, vector.id);
  }
});

t.test('the headers of an attempt: the id, the timestamp in unix seconds, the signature over them', async (t) => {
  const headers = signatureHeaders(TELLER.secret, TELLER.id, TELLER.body, TELLER.timestamp * 1000 + 999);
  t.same(headers, { 'webhook-id': TELLER.id, 'webhook-timestamp': String(TELLER.timestamp), 'webhook-signature': TELLER.signature });
});

t.test('the verifier accepts a signed delivery and refuses every change', async (t) => {
  const nowMs = TELLER.timestamp * 1000;
  const headers = { 'webhook-id': TELLER.id, 'webhook-timestamp': String(TELLER.timestamp), 'webhook-signature': TELLER.signature };
  t.equal(verifyProblem(TELLER.secret, headers, TELLER.body, { nowMs }), undefined);
  t.equal(verifyProblem(TELLER.secret, { ...headers, 'webhook-signature': `v1,bm90IGl0 ${TELLER.signature}` }, TELLER.body, { nowMs }), undefined, 'one of several signatures');
  t.equal(verifyProblem(SPEC.secret, { 'webhook-id': SPEC.id, 'webhook-timestamp': String(SPEC.timestamp), 'webhook-signature': SPEC.signature }, SPEC.body, { nowMs: SPEC.timestamp * 1000 }), undefined);

  t.equal(verifyProblem(TELLER.secret, headers, TELLER.body.replace('2500', '2501'), { nowMs }), 'no signature matches', 'another body');
  t.equal(verifyProblem(TELLER.secret, { ...headers, 'webhook-id': '3:1843' }, TELLER.body, { nowMs }), 'no signature matches', 'another id');
  t.equal(verifyProblem(TELLER.secret, { ...headers, 'webhook-timestamp': String(TELLER.timestamp + 1) }, TELLER.body, { nowMs }), 'no signature matches', 'another timestamp');
  t.equal(verifyProblem(SPEC.secret, headers, TELLER.body, { nowMs }), 'no signature matches', 'another secret');
  t.equal(verifyProblem(TELLER.secret, { ...headers, 'webhook-signature': TELLER.signature.replace('v1,', 'v2,') }, TELLER.body, { nowMs }), 'no signature matches', 'another version');
  t.match(verifyProblem(TELLER.secret, headers, TELLER.body, { nowMs: nowMs + 301_000 }), /more than 300 s from now/, 'too old');
  t.equal(verifyProblem(TELLER.secret, headers, TELLER.body, { nowMs: nowMs + 301_000, toleranceSeconds: 400 }), undefined, 'within a wider tolerance');
  t.equal(verifyProblem(TELLER.secret, { 'webhook-id': TELLER.id }, TELLER.body, { nowMs }), 'a webhook header is missing');
});

t.test('a new secret: whsec_ and 32 random bytes in base64, each different', async (t) => {
  const secrets = new Set(Array.from({ length: 20 }, newSecret));
  t.equal(secrets.size, 20);
  for (const secret of secrets) {
    t.ok(secret.startsWith(SECRET_PREFIX));
    t.equal(signingKey(secret).length, 32);
  }
  t.throws(() => signingKey('AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='), /starts with whsec_/);
  t.throws(() => signingKey('whsec_AAEC'), /at least 24 bytes/);
});

t.test('endpoint URLs: http and https with a host, no credentials, no fragment', async (t) => {
  for (const url of ['http://127.0.0.1:8081/hooks', 'https://hooks.example.internal/teller?source=ledger', 'http://[::1]:9/x']) t.equal(webhookUrlProblem(url), undefined, url);
  for (const url of ['file:///etc/passwd', 'http://', 'https://u@h/', 'http://h/#f', 'mailto:a@b', 'h:80']) t.not(webhookUrlProblem(url), undefined, url);
});
