// The README's configuration table names every environment variable that
// common/config.ts reads, and nothing else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { root } from '../../scripts/stack/paths.js';

const read = (file: string) => readFileSync(join(root, file), 'utf8');
const configNames = new Set([...read('common/config.ts').matchAll(/'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));
const readmeNames = new Set([...read('README.md').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!));

t.test('every variable config.ts reads is in the README table', async (t) => {
  for (const name of configNames) t.ok(readmeNames.has(name), name);
});

t.test('the README table names no variable config.ts does not read', async (t) => {
  for (const name of readmeNames) t.ok(configNames.has(name), name);
});
