// @ts-check
// Just enough JavaScript highlighting for the code view (no DOM): comments, strings,
// keywords and numbers. A regular expression literal is not recognised; it shows as plain
// text, which is good enough for reading.

/** @typedef {{ text: string, kind: 'comment' | 'string' | 'keyword' | 'number' | null }} Token */

const KEYWORDS =
  'async await break case catch class const continue default delete do else export extends false finally for from function if import in instanceof let new null of return static switch this throw true try typeof undefined var void while yield';

const TOKEN = new RegExp(
  [
    String.raw`(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))`, // 1: comment
    String.raw`('(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?|` +
      '`' +
      String.raw`(?:\\[\s\S]|[^` +
      '`' +
      String.raw`\\])*` +
      '`?)', // 2: string
    String.raw`\b(${KEYWORDS.split(' ').join('|')})\b`, // 3: keyword
    String.raw`\b(\d[\d_]*(?:\.\d+)?(?:e[+-]?\d+)?)\b`, // 4: number
  ].join('|'),
  'g',
);

/**
 * Splits source text into tokens; joined back, their texts are the source.
 * @param {string} source
 * @returns {Token[]}
 */
export function tokenize(source) {
  /** @type {Token[]} */
  const tokens = [];
  let last = 0;
  for (const match of source.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) tokens.push({ text: source.slice(last, index), kind: null });
    const kind = match[1] ? 'comment' : match[2] ? 'string' : match[3] ? 'keyword' : 'number';
    tokens.push({ text: match[0], kind });
    last = index + match[0].length;
  }
  if (last < source.length) tokens.push({ text: source.slice(last), kind: null });
  return tokens;
}
