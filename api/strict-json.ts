// The JSON a banking API takes: what JSON.parse would read one way and a
// client may have meant another is refused instead of guessed.
// - A key twice in one object: JSON.parse keeps the last, other parsers the first.
// - A number with a fraction or an exponent: every number Teller takes is an
//   integer in minor units, and `1.0000000000000001` is read as 1.
// - An integer larger in magnitude than 2^53 - 1: `9007199254740993` is read
//   as 9007199254740992.
// - A body in a charset other than UTF-8: it would be read as UTF-8.
// The value is built here, not by JSON.parse, so the checks and the parse are one pass.
// The reader recurses, so it also refuses nesting deeper than MAX_DEPTH: a
// body within the size limit could otherwise exhaust the stack.

export type StrictJsonFault = 'syntax' | 'duplicate_key' | 'non_integer_number' | 'unsafe_integer' | 'forbidden_key' | 'too_deep';

/** Far above any body Teller takes (an object of scalars), far below what the stack allows. */
export const MAX_DEPTH = 64;

export class StrictJsonError extends Error {
  constructor(
    readonly fault: StrictJsonFault,
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'StrictJsonError';
  }
}

/** The charset a Content-Type names, lower case; undefined when it names none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  for (const parameter of contentType.split(';').slice(1)) {
    const [name = '', value = ''] = parameter.split('=', 2);
    if (name.trim().toLowerCase() === 'charset') return value.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return undefined;
}

/** Whether a body declared with this Content-Type can be read as UTF-8 (JSON's own encoding, RFC 8259). */
export function isUtf8Body(contentType: string | undefined): boolean {
  const charset = charsetOf(contentType);
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

export function parseStrictJson(text: string): unknown {
  const reader = new Reader(text);
  reader.skipSpace();
  const value = reader.value();
  reader.skipSpace();
  if (!reader.atEnd()) throw reader.fail('syntax', 'unexpected text after the JSON value');
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LITERALS: [string, unknown][] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

class Reader {
  private at = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.at >= this.text.length;
  }

  fail(fault: StrictJsonFault, message: string): StrictJsonError {
    return new StrictJsonError(fault, message, this.at);
  }

  skipSpace(): void {
    while (this.at < this.text.length && ' \t\n\r'.includes(this.text[this.at]!)) this.at++;
  }

  value(): unknown {
    const next = this.text[this.at];
    if (next === '{') return this.nested(() => this.object());
    if (next === '[') return this.nested(() => this.array());
    if (next === '"') return this.string();
    if (next === '-' || (next !== undefined && next >= '0' && next <= '9')) return this.number();
    for (const [word, literal] of LITERALS) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return literal;
      }
    }
    throw this.fail('syntax', next === undefined ? 'unexpected end of the body' : `unexpected ${JSON.stringify(next)}`);
  }

  private nested<T>(read: () => T): T {
    if (++this.depth > MAX_DEPTH) throw this.fail('too_deep', `arrays and objects nest deeper than ${MAX_DEPTH} levels`);
    const value = read();
    this.depth--;
    return value;
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.at++;
    this.skipSpace();
    if (this.text[this.at] === '}') {
      this.at++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      const keyAt = this.at;
      if (this.text[this.at] !== '"') throw this.fail('syntax', 'expected a key in double quotes');
      const key = this.string();
      if (seen.has(key)) throw new StrictJsonError('duplicate_key', `the key ${JSON.stringify(key)} appears twice in one object`, keyAt);
      // Fastify's own parser refuses these too: assigned, they would change the object's prototype.
      if (key === '__proto__' || key === 'constructor') throw new StrictJsonError('forbidden_key', `the key ${JSON.stringify(key)} is not allowed`, keyAt);
      seen.add(key);
      this.skipSpace();
      this.expect(':');
      this.skipSpace();
      result[key] = this.value();
      this.skipSpace();
      if (this.take('}')) return result;
      this.expect(',');
    }
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.at++;
    this.skipSpace();
    if (this.take(']')) return result;
    for (;;) {
      this.skipSpace();
      result.push(this.value());
      this.skipSpace();
      if (this.take(']')) return result;
      this.expect(',');
    }
  }

  private string(): string {
    STRING.lastIndex = this.at;
    const match = STRING.exec(this.text);
    if (!match) throw this.fail('syntax', 'a malformed string');
    this.at += match[0].length;
    return JSON.parse(match[0]) as string;
  }

  private number(): number {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match) throw this.fail('syntax', 'a malformed number');
    if (match[1] !== undefined || match[2] !== undefined) {
      throw this.fail('non_integer_number', `${match[0]} has a fraction or an exponent; numbers are integers (amounts in minor units)`);
    }
    const value = Number(match[0]);
    if (!Number.isSafeInteger(value)) {
      throw this.fail('unsafe_integer', `${match[0]} is larger in magnitude than 2^53 - 1, where integers are not read exactly`);
    }
    this.at += match[0].length;
    return value;
  }

  private take(char: string): boolean {
    if (this.text[this.at] !== char) return false;
    this.at++;
    return true;
  }

  private expect(char: string): void {
    if (!this.take(char)) throw this.fail('syntax', `expected ${JSON.stringify(char)}`);
  }
}
