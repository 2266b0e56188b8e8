import { runCli } from './cli-harness';
import { formatHelp, TERMINAL_WIDTH } from '../../cli/help-text';

/** The command names `ml-trainer --help` lists. */
async function commandNames(): Promise<string[]> {
  const overview = (await runCli(['--help'])).stdout;
  const section = overview.slice(overview.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]);
}

/** Where the descriptions of option lines ("  --name <v>   what") start, per indentation. */
function optionColumns(help: string): Map<number, Set<number>> {
  const columns = new Map<number, Set<number>>();
  for (const line of help.split('\n')) {
    const m = /^( +)(-\S*(?: \S+)*?) {2,}\S/.exec(line);
    if (!m) continue;
    const indent = m[1].length;
    columns.set(indent, (columns.get(indent) ?? new Set()).add(m[0].length - 1));
  }
  return columns;
}

describe('every command --help in an 80-column terminal', () => {
  it('lists the commands', async () => {
    expect(await commandNames()).toEqual(expect.arrayContaining(['run', 'agent', 'eval', 'serve', 'report', 'datasets']));
  });

  it('has no line wider than 80 columns and one description column for its options', async () => {
    const problems: string[] = [];
    const helps = [['(overview)', (await runCli(['--help'])).stdout]];
    for (const name of await commandNames()) helps.push([name, (await runCli([name, '--help'])).stdout]);
    for (const [name, help] of helps) {
      expect(help.length).toBeGreaterThan(100);
      for (const line of help.split('\n')) {
        if ([...line].length > TERMINAL_WIDTH) problems.push(`${name}: ${[...line].length} columns: ${line}`);
        if (line !== line.trimEnd()) problems.push(`${name}: trailing spaces: ${JSON.stringify(line)}`);
      }
      for (const [indent, columns] of optionColumns(help)) {
        if (columns.size > 1) problems.push(`${name}: options at indent ${indent} start their descriptions at columns ${[...columns].join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('formatHelp', () => {
  it('aligns options to one column and re-flows their descriptions under it', () => {
    const text = 'Options:\n  --a <x>  first\n           goes on\n  --longer-name <y>  second\n';
    expect(formatHelp(text)).toBe('Options:\n  --a <x>            first goes on\n  --longer-name <y>  second\n');
  });

  it('puts a term too long for the column on its own line', () => {
    const text = '  --a  one\n  --a-very-long-option-name <N>\n        two\n';
    expect(formatHelp(text)).toBe('  --a  one\n  --a-very-long-option-name <N>\n       two\n');
  });

  it('wraps a usage line between its bracketed parts, under the first option', () => {
    expect(formatHelp('Usage: ml-trainer x --task <id> [--seed N] [--json]', 40)).toBe('Usage: ml-trainer x --task <id>\n                    [--seed N] [--json]\n');
  });

  it('re-flows prose and keeps a heading and bullets apart', () => {
    const text = 'Notes:\none two three four\nfive\n  - six seven\n    eight\n  - nine\n';
    expect(formatHelp(text, 12)).toBe('Notes:\none two\nthree four\nfive\n  - six\n    seven\n    eight\n  - nine\n');
  });

  it('keeps lines of code (a JSON example) apart', () => {
    expect(formatHelp('  [{"a": 1},\n   {"b": 2}]\n')).toBe('  [{"a": 1},\n   {"b": 2}]\n');
  });

  it('gives a word wider than the line a line of its own, ending at the last column', () => {
    const url = `https://example.com/${'a'.repeat(55)}`;
    expect(formatHelp(`  --u  see ${url}`)).toBe(`  --u  see\n${' '.repeat(80 - url.length)}${url}\n`);
  });
});
