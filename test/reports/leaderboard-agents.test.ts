import type { AgentLabel, ToolCall } from '../../layers/core/src';
import { agentStandings, buildLeaderboardInput, leaderboardEntryFromRecord, leaderboardGroupingSchema, renderLeaderboardHtml } from '../../layers/reports/src';
import { finalRecord } from './helpers';

const LLM: AgentLabel = { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' };

/** Epochs trained before submitting: with the formula trainer on easy_mnist, 12 score 0.0001, 16 about 0.12, 20 about 0.14. */
const trained = (epochs: number): ToolCall[] => [
  { tool: 'configure_training', arguments: { optimizer: 'adam', learning_rate: 0.001 } },
  { tool: 'run_epochs', arguments: { num_epochs: epochs } },
  { tool: 'submit_model', arguments: {} },
];

describe('leaderboard grouped by agent', () => {
  async function entries() {
    const played: [string, AgentLabel | undefined, number][] = [
      ['llm-a', LLM, 20],
      ['llm-b', LLM, 12],
      ['base-a', { policy: 'baseline' }, 16],
      ['base-b', { policy: 'baseline' }, 16],
      ['anon', undefined, 20],
    ];
    return Promise.all(
      played.map(async ([id, agent, epochs]) => ({
        task_id: 'easy_mnist',
        ...leaderboardEntryFromRecord({ episode_id: id, record: await finalRecord(trained(epochs), 'easy_mnist', agent), report_href: `reports/${id}.html` }),
      })),
    );
  }

  it('rows per agent key: episodes, mean and best score, the best episode; unlabelled episodes grouped as "unlabelled"; ranked by mean', async () => {
    const all = await entries();
    const score = (id: string) => all.find((e) => e.episode_id === id)!.score!;
    expect(all.map((e) => e.agent)).toEqual(['llm gpt-4o-mini @v3', 'llm gpt-4o-mini @v3', 'baseline', 'baseline', 'unlabelled']);
    // Means: unlabelled (one 20-epoch episode) > baseline (two of 16) > llm (20 and 12), though llm's best equals unlabelled's.
    expect(score('llm-a')).toBe(score('anon'));
    expect(score('anon')).toBeGreaterThan(score('base-a'));
    expect(score('base-a')).toBeGreaterThan((score('llm-a') + score('llm-b')) / 2);
    const standings = agentStandings(all);
    expect(standings.map((s) => [s.agent, s.rank, s.episodes])).toEqual([
      ['unlabelled', 1, 1],
      ['baseline', 2, 2],
      ['llm gpt-4o-mini @v3', 3, 2],
    ]);
    const llm = standings.find((s) => s.agent === 'llm gpt-4o-mini @v3')!;
    expect(llm).toMatchObject({ episodes: 2, graded: 2, best: score('llm-a'), best_episode: { episode_id: 'llm-a', report_href: 'reports/llm-a.html' } });
    expect(llm.mean).toBeCloseTo((score('llm-a') + score('llm-b')) / 2, 12);
    // Equal mean and best share a rank (ties broken by the key for order only).
    const tied = agentStandings([
      { episode_id: 'x', agent: 'b', score: 0.5 },
      { episode_id: 'y', agent: 'a', score: 0.5 },
      { episode_id: 'z', agent: 'c', score: null },
    ]);
    expect(tied.map((s) => [s.agent, s.rank])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', null],
    ]);
  });

  it('renders the agents table with the best episode linked and every episode folded below; by episode it ranks episodes only', async () => {
    const input = buildLeaderboardInput(await entries(), { baselines: { easy_mnist: { score: 0.5 } } });
    const byAgent = renderLeaderboardHtml(input);
    expect(byAgent).toContain('id="task-easy-mnist-agents-caption">MNIST Digit Classifier: agents ranked by mean score');
    expect(byAgent).toMatch(/<td>llm gpt-4o-mini @v3<\/td><td class="num">2<\/td>[\s\S]*?<a href="reports\/llm-a.html"><code>llm-a<\/code><\/a>/);
    expect(byAgent).toContain('<th scope="col" class="num">Mean vs baseline</th>');
    expect(byAgent).toContain('<details id="task-easy-mnist-episodes"><summary>Every episode ranked by score (5)</summary>');
    expect(byAgent).toContain('<dt>Agents</dt><dd>3</dd>');
    expect(byAgent).not.toContain('id="leaderboard-grouping"'); // a file cannot switch

    const byEpisode = renderLeaderboardHtml({ ...input, group_by: 'episode', grouping_hrefs: { agent: '/lb', episode: '/lb?group=episode' } });
    expect(byEpisode).not.toContain('-agents-caption');
    expect(byEpisode).toContain('id="task-easy-mnist-table-caption">MNIST Digit Classifier: episodes ranked by score');
    expect(byEpisode).toContain('<a href="/lb">by agent</a> · <a href="/lb?group=episode" aria-current="page">by episode</a>');
  });

  it('the grouping parameter is agent (default) or episode, nothing else', () => {
    expect(leaderboardGroupingSchema.parse(undefined)).toBe('agent');
    expect(leaderboardGroupingSchema.parse('episode')).toBe('episode');
    const refused = leaderboardGroupingSchema.safeParse('tenant');
    expect(refused.success).toBe(false);
    expect(refused.error!.issues[0]!.message).toBe('must be one of: agent, episode');
  });
});
