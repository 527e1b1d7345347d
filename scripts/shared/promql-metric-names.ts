// The metric names a PromQL expression reads: what a dashboard's queries need
// the processes to expose. Not a PromQL parser: a tokenizer and a walk that
// knows which words are not metric names (functions, being followed by a
// parenthesis; aggregations and other keywords; label names inside matchers and in
// by/without/on/ignoring/group_left/group_right lists; ranges, durations and
// Grafana's variables such as $__rate_interval).

export type TokenKind = 'identifier' | 'string' | 'number' | 'variable' | 'punctuation' | 'operator';

export interface Token {
  kind: TokenKind;
  text: string;
}

const TOKEN_PATTERNS: Array<[TokenKind | 'space' | 'comment', RegExp]> = [
  ['space', /\s+/y],
  ['comment', /#[^\n]*/y],
  ['string', /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/y],
  // Grafana's template variables: $name, ${name}, ${name:format}, [[name]].
  ['variable', /\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]*\]\]/y],
  // Numbers and durations alike: 0.99, 1e3, 0x1f, 5m, 1h30m.
  ['number', /(?:\d|\.\d)[0-9A-Za-z_.]*/y],
  ['identifier', /[A-Za-z_:][A-Za-z0-9_:]*/y],
  ['punctuation', /[(){}[\],]/y],
  ['operator', /=~|!~|!=|==|>=|<=|[-+*/%^=<>@]/y],
];

/** The tokens of an expression; throws on a character PromQL has no use for. */
export function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < expression.length) {
    const found = TOKEN_PATTERNS.find(([, pattern]) => {
      pattern.lastIndex = at;
      return pattern.test(expression);
    });
    if (!found) throw new Error(`PromQL: unexpected ${JSON.stringify(expression[at])} at ${at} in ${expression}`);
    const [kind, pattern] = found;
    const text = expression.slice(at, pattern.lastIndex);
    at = pattern.lastIndex;
    if (kind !== 'space' && kind !== 'comment') tokens.push({ kind, text });
  }
  return tokens;
}

/** Keywords that take a parenthesised list of label names. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** Binary operators and modifiers spelled as words, and the number literals spelled as words. */
const WORDS = new Set(['and', 'or', 'unless', 'atan2', 'bool', 'offset', 'inf', 'nan']);
/** Aggregations: keywords, which may be followed by `by (...)` or `without (...)` before their parenthesis. */
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);

/** The index just past the bracket that closes the one at `open`. */
function pastClosing(tokens: Token[], open: number): number {
  const opening = tokens[open]!.text;
  const closing = opening === '(' ? ')' : opening === '{' ? '}' : ']';
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const text = tokens[i]!.text;
    if (tokens[i]!.kind !== 'punctuation') continue;
    if (text === opening) depth++;
    else if (text === closing && --depth === 0) return i + 1;
  }
  throw new Error(`PromQL: no ${closing} closes the ${opening} of ${tokens.map((t) => t.text).join(' ')}`);
}

/** Throws unless every bracket is closed by its own kind, in order: a query Prometheus would refuse is no query to check. */
function checkBalanced(tokens: Token[]): void {
  const open: string[] = [];
  const closes: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  for (const { kind, text } of tokens) {
    if (kind !== 'punctuation' || text === ',') continue;
    if (!(text in closes)) open.push(text);
    else if (open.pop() !== closes[text]) throw new Error(`PromQL: ${text} closes nothing open in ${tokens.map((t) => t.text).join(' ')}`);
  }
  if (open.length > 0) throw new Error(`PromQL: ${open.join(' ')} left open in ${tokens.map((t) => t.text).join(' ')}`);
}

/** A metric named inside a selector's braces: {__name__="name"}. */
function nameFromMatchers(tokens: Token[], from: number, to: number): string | undefined {
  for (let i = from; i + 2 < to; i++) {
    const [label, operator, value] = [tokens[i]!, tokens[i + 1]!, tokens[i + 2]!];
    if (label.text === '__name__' && operator.text === '=' && value.kind === 'string') return value.text.slice(1, -1);
  }
  return undefined;
}

/** Every metric name the expression reads, each once, in the order they first appear. */
export function metricNamesOf(expression: string): string[] {
  const tokens = tokenize(expression);
  checkBalanced(tokens);
  const names = new Set<string>();
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    const next = tokens[i + 1];
    if (token.kind === 'punctuation' && (token.text === '{' || token.text === '[')) {
      const end = pastClosing(tokens, i);
      const named = token.text === '{' ? nameFromMatchers(tokens, i + 1, end - 1) : undefined;
      if (named) names.add(named);
      i = end;
      continue;
    }
    if (token.kind !== 'identifier') {
      i++;
      continue;
    }
    const word = token.text.toLowerCase();
    if (LABEL_LIST_KEYWORDS.has(word) && next?.text === '(') {
      i = pastClosing(tokens, i + 1);
      continue;
    }
    // A word followed by a parenthesis is a function, never a metric.
    const keyword = WORDS.has(word) || AGGREGATIONS.has(word) || LABEL_LIST_KEYWORDS.has(word);
    if (!keyword && next?.text !== '(') names.add(token.text);
    i++;
  }
  return [...names];
}
