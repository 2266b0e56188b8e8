/**
 * The README's quick start as text: what the walkthrough test runs. The README marks it for
 * the test: the set-up line `npm ci && npm start` opens the first bash block, the commands
 * are the bash block after `<!-- walkthrough … -->`, and the dashboard is the first
 * `<http://…>` link after that block.
 */
export interface QuickStart {
  /** The set-up line without `npm ci && ` (CI has just run `npm ci`), e.g. `npm start  # …`. */
  start: string;
  /** The commands a newcomer pastes into a second terminal, one a line, in order. */
  commands: string[];
  /** The dashboard's address as the README gives it. */
  dashboard: string;
}

export const WALKTHROUGH_MARKER = '<!-- walkthrough';
const SETUP_PREFIX = 'npm ci && ';
/** What the README's addresses say, and the placeholder for the id the agent prints. */
export const README_HOST = '127.0.0.1:8000';
export const EPISODE_ID_PLACEHOLDER = '<episode-id>';

export function quickStartOf(readme: string): QuickStart {
  const firstLine = bashBlockAt(readme, 0, 'the set-up block at the top')[0] ?? '';
  if (!firstLine.startsWith(SETUP_PREFIX)) {
    throw new Error(`README.md: the first bash block must start with "${SETUP_PREFIX}npm start …" (CI runs its lines), found ${JSON.stringify(firstLine)}`);
  }
  const marker = readme.indexOf(WALKTHROUGH_MARKER);
  if (marker < 0) throw new Error(`README.md: no "${WALKTHROUGH_MARKER} -->" comment before the quick start's bash block; put it back so the walkthrough test finds the commands`);
  const commands = bashBlockAt(readme, marker, `the bash block after "${WALKTHROUGH_MARKER}"`).filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  if (commands.length === 0) throw new Error(`README.md: the bash block after "${WALKTHROUGH_MARKER}" has no commands`);
  const afterBlock = readme.indexOf('```', readme.indexOf('```bash', marker) + 3);
  const dashboard = /<(http:\/\/[^>\s]+)>/.exec(readme.slice(afterBlock))?.[1];
  if (dashboard === undefined) throw new Error('README.md: no <http://…> link (the dashboard) after the quick start\'s commands');
  return { start: firstLine.slice(SETUP_PREFIX.length), commands, dashboard };
}

/** The documented substitutions: the README's port becomes `port`, the placeholder the episode's id. */
export function localized(text: string, port: number, episodeId?: string): string {
  const out = text.split(README_HOST).join(`127.0.0.1:${port}`);
  if (!out.includes(EPISODE_ID_PLACEHOLDER)) return out;
  if (episodeId === undefined) throw new Error(`${JSON.stringify(text)} needs ${EPISODE_ID_PLACEHOLDER}, but no earlier quick-start command printed an episode id`);
  return out.split(EPISODE_ID_PLACEHOLDER).join(episodeId);
}

function bashBlockAt(readme: string, from: number, what: string): string[] {
  const open = readme.indexOf('```bash\n', from);
  const close = open < 0 ? -1 : readme.indexOf('\n```', open);
  if (close < 0) throw new Error(`README.md: ${what} is missing (a fenced \`\`\`bash block)`);
  return readme.slice(open + '```bash\n'.length, close).split('\n');
}

/** The id in "episode <id>", as the README says the agent prints it (a line may break between them). */
export function printedEpisodeId(output: string): string | undefined {
  return /\bepisode\s+([A-Za-z0-9][A-Za-z0-9_-]{7,})/.exec(output)?.[1];
}
