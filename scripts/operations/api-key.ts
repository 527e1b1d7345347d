// `node dist/scripts/operations/api-key.js [account ...]`: mints an API key and prints
// its API_KEYS entry (the SHA-256 of the key, limited to the accounts given).
// `node dist/scripts/operations/api-key.js --hash KEY [account ...]` prints the entry of
// an existing key. The key itself is shown once and stored nowhere.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { digestOf } from '../../api/auth.js';

export function apiKeyEntry(key: string, accounts: string[] = []): string {
  const hex = digestOf(key).toString('hex');
  return accounts.length > 0 ? `${hex}:${accounts.join('|')}` : hex;
}

export function mintKey(): string {
  return `tk_${randomBytes(24).toString('base64url')}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const hashing = args[0] === '--hash';
  const key = hashing ? args[1] : mintKey();
  if (!key) {
    console.error('usage: node dist/scripts/operations/api-key.js [account ...] | --hash KEY [account ...]');
    process.exit(2);
  }
  const accounts = args.slice(hashing ? 2 : 0);
  if (!hashing) console.log(`key:            ${key}`);
  console.log(`API_KEYS entry: ${apiKeyEntry(key, accounts)}`);
  console.log('Entries are separated by ";" in API_KEYS; give the key to its client as "Authorization: Bearer <key>".');
}
