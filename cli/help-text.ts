/**
 * Lays out a command's help text for a terminal of `width` columns, so that the help texts
 * can be written for reading in the source and still print aligned and unwrapped:
 * - an entry ("  --name <v>   what it does", "  baseline   a policy") is a term, two or more
 *   spaces and a description; consecutive entries at one indentation share one description
 *   column, and a description with its continuation lines is re-flowed under that column;
 * - a prose line and the lines that continue it at its indentation are re-flowed;
 * - a usage line (Usage: ..., ml-trainer ...) is only wrapped, under its first option;
 * - a line of code (starting with [ or {) is never joined with the next.
 * A line ending with ":" ends its paragraph. Nothing is cut: a word wider than a line is
 * moved left until it fits.
 */
export const TERMINAL_WIDTH = 80;

/** A term longer than this is not taken as an entry's term (prose with a double space). */
const MAX_TERM = 30;
/** A longer term goes on a line of its own, its description below it in the group's column. */
const MAX_INLINE_TERM = 24;
/** Below this many columns for a description, an entry's description starts on the next line. */
const MIN_DESCRIPTION = 36;

interface Line {
  indent: number;
  text: string;
}

type Block =
  | { kind: 'blank' }
  | { kind: 'usage'; indent: number; text: string }
  | { kind: 'prose'; indent: number; hang: number; words: string[] }
  | { kind: 'entry'; indent: number; term: string; words: string[]; column: number };

const ENTRY = /^(\S+(?: \S+)*?) {2,}(\S.*)$/;

export function formatHelp(text: string, width = TERMINAL_WIDTH): string {
  const lines = text.replace(/\n+$/, '').split('\n').map(toLine);
  const blocks = alignEntries(parse(lines));
  return `${blocks.flatMap((b) => render(b, width)).map((l) => l.trimEnd()).join('\n')}\n`;
}

function toLine(raw: string): Line {
  const trimmed = raw.trimEnd();
  const text = trimmed.trimStart();
  return { indent: trimmed.length - text.length, text };
}

function entryParts(line: Line): { term: string; description: string } | null {
  if (isUsage(line.text)) return null;
  const m = ENTRY.exec(line.text);
  if (!m || m[1].length > MAX_TERM) return null;
  return { term: m[1], description: m[2] };
}

function isUsage(text: string): boolean {
  return /^(Usage:|ml-trainer )/.test(text);
}

function words(text: string): string[] {
  return text.split(/ +/).filter((w) => w.length > 0);
}

function parse(lines: Line[]): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    i += 1;
    if (line.text === '') {
      blocks.push({ kind: 'blank' });
      continue;
    }
    if (isUsage(line.text)) {
      // Its continuation lines start with an option or a bracket.
      let text = line.text;
      while (i < lines.length && lines[i].indent > line.indent && /^(\[|--)/.test(lines[i].text)) text += ` ${lines[i++].text}`;
      blocks.push({ kind: 'usage', indent: line.indent, text });
      continue;
    }
    const entry = entryParts(line) ?? loneTerm(line, lines[i]);
    if (entry) {
      const termEnd = entry.description === '' ? line.indent + 4 : line.indent + entry.term.length;
      const collected = words(entry.description);
      // Its description goes on on deeper lines that are not entries of their own (a nested table).
      while (i < lines.length && lines[i].text !== '' && lines[i].indent > termEnd && !entryParts(lines[i]) && !isUsage(lines[i].text)) {
        collected.push(...words(lines[i++].text));
      }
      blocks.push({ kind: 'entry', indent: line.indent, term: entry.term, words: collected, column: 0 });
      continue;
    }
    if (/^[[{]/.test(line.text)) {
      // Code (a JSON example): one line each, never joined.
      blocks.push({ kind: 'prose', indent: line.indent, hang: line.indent + 1, words: words(line.text) });
      continue;
    }
    const hang = line.text.startsWith('- ') ? line.indent + 2 : line.indent;
    const collected = words(line.text);
    const heading = line.text.endsWith(':') && line.text.length <= 40;
    while (!heading && i < lines.length && lines[i].text !== '' && lines[i].indent === hang && !entryParts(lines[i]) && !isUsage(lines[i].text)) {
      if (lines[i].text.startsWith('- ')) break;
      collected.push(...words(lines[i++].text));
    }
    blocks.push({ kind: 'prose', indent: line.indent, hang, words: collected });
  }
  return blocks;
}

/** An option alone on its line ("  --allow-host <name[:port]>"), its description on the lines below. */
function loneTerm(line: Line, next: Line | undefined): { term: string; description: string } | null {
  if (!line.text.startsWith('-') || line.text.startsWith('- ') || next === undefined) return null;
  return next.text !== '' && next.indent > line.indent + 4 ? { term: line.text, description: '' } : null;
}

/**
 * Entries at one indentation share one column, options apart from other terms (a help's
 * option sections align with each other); a term too long for it gets a line of its own.
 */
function alignEntries(blocks: Block[]): Block[] {
  const groups = new Map<string, Extract<Block, { kind: 'entry' }>[]>();
  for (const block of blocks) {
    if (block.kind !== 'entry') continue;
    const key = `${block.indent}:${block.term.startsWith('-')}`;
    groups.set(key, [...(groups.get(key) ?? []), block]);
  }
  for (const group of groups.values()) {
    const fitting = group.filter((e) => e.term.length <= MAX_INLINE_TERM);
    const column = Math.max(...(fitting.length > 0 ? fitting : group).map((e) => e.indent + Math.min(e.term.length, MAX_INLINE_TERM) + 2));
    for (const e of group) e.column = column;
  }
  return blocks;
}

function render(block: Block, width: number): string[] {
  switch (block.kind) {
    case 'blank':
      return [''];
    case 'usage': {
      const first = block.text.search(/ (\[|--|<)/);
      const hang = block.indent + (first > 0 && first < width / 2 ? first + 1 : 4);
      return fill(usageTokens(block.text), ' '.repeat(block.indent), ' '.repeat(hang), width);
    }
    case 'prose':
      return fill(block.words, ' '.repeat(block.indent), ' '.repeat(block.hang), width);
    case 'entry': {
      const head = ' '.repeat(block.indent) + block.term;
      const column = width - block.column < MIN_DESCRIPTION ? block.indent + 8 : block.column;
      if (head.length + 2 > column) return [head, ...fill(block.words, ' '.repeat(column), ' '.repeat(column), width)];
      return fill(block.words, head.padEnd(column), ' '.repeat(column), width);
    }
  }
}

/** A usage line's words, an optional part in brackets kept as one. */
function usageTokens(text: string): string[] {
  const tokens: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === ' ' && depth === 0) {
      if (current !== '') tokens.push(current);
      current = '';
      continue;
    }
    if (ch === '[') depth += 1;
    if (ch === ']') depth = Math.max(0, depth - 1);
    current += ch;
  }
  if (current !== '') tokens.push(current);
  return tokens;
}

/** Fills lines with words; a word too wide for any line gets a line of its own, moved left to end at `width`. */
export function fill(list: string[], firstPrefix: string, restPrefix: string, width: number): string[] {
  const out: string[] = [];
  let line = firstPrefix;
  let empty = true;
  const flush = () => {
    if (line.trim() !== '') out.push(line);
    line = restPrefix;
    empty = true;
  };
  for (const word of list) {
    if (!empty && line.length + 1 + word.length > width) flush();
    if (line.length + word.length > width) {
      flush();
      out.push(' '.repeat(Math.max(0, width - word.length)) + word);
      continue;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  if (!empty || out.length === 0) out.push(line);
  return out;
}
