import { localized, printedEpisodeId, quickStartOf } from './quick-start';

/* How the walkthrough test reads the README: what it takes, and what it says when the marks are gone. */
const README = [
  '# t',
  '```bash',
  'npm ci && npm start     # serve on http://127.0.0.1:8000',
  'npm ci && npm test',
  '```',
  '<!-- walkthrough: runs this block -->',
  '```bash',
  '# a comment line is not a command',
  'npx ml-trainer agent --url http://127.0.0.1:8000',
  'npx ml-trainer report <episode-id> --out e.html',
  '```',
  'Open <http://127.0.0.1:8000/>.',
].join('\n');

describe('the README quick start as text', () => {
  it('takes the start line without npm ci, the marked block\'s commands and the dashboard link', () => {
    expect(quickStartOf(README)).toEqual({
      start: 'npm start     # serve on http://127.0.0.1:8000',
      commands: ['npx ml-trainer agent --url http://127.0.0.1:8000', 'npx ml-trainer report <episode-id> --out e.html'],
      dashboard: 'http://127.0.0.1:8000/',
    });
  });

  it('says which mark is missing', () => {
    expect(() => quickStartOf(README.replace('<!-- walkthrough', '<!-- other'))).toThrow(/no "<!-- walkthrough -->" comment/);
    expect(() => quickStartOf(README.replace('npm ci && npm start', 'npm start'))).toThrow(/must start with "npm ci && npm start/);
    expect(() => quickStartOf(README.replace('<http://127.0.0.1:8000/>', 'the dashboard'))).toThrow(/no <http:\/\/…> link/);
  });

  it('substitutes the port and the printed episode id, and refuses a placeholder with no id', () => {
    expect(localized('report <episode-id> --server http://127.0.0.1:8000', 4321, 'ep-12345678')).toBe('report ep-12345678 --server http://127.0.0.1:4321');
    expect(() => localized('report <episode-id>', 4321)).toThrow(/no earlier quick-start command printed an episode id/);
    expect(printedEpisodeId('  task easy_mnist (seed 42), policy baseline, episode 049e4295-c1df-4b03-9a06-bf25804c5951, submitted')).toBe('049e4295-c1df-4b03-9a06-bf25804c5951');
    expect(printedEpisodeId('  easy_mnist, seed 42, policy baseline, episode\n  049e4295-c1df-4b03-9a06-bf25804c5951, submitted')).toBe('049e4295-c1df-4b03-9a06-bf25804c5951');
  });
});
