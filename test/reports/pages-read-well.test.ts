import { InMemoryEpisodeService } from '../server/in-memory-episode-service';
import { http, startServer } from '../server/harness';
import {
  buildEpisodeReport,
  buildLeaderboardInput,
  measuredBaselines,
  renderEpisodeReportHtml,
  renderEvalReportHtml,
  renderLeaderboardHtml,
  type LeaderboardEntry,
} from '../../layers/reports/src';
import { argumentsHtml } from '../../layers/reports/src/arguments-html';
import { BASE_CSS } from '../../layers/reports/src/html';
import { evalReportData } from './eval-report-fixture';
import { finalRecord, MAIN_SCRIPT } from './helpers';

/* What a newcomer reads on the pages (issue 15): labels that cannot collide, a baseline that says what it is, the agent named, JSON that wraps between fields, a target that says it is not graded, an empty dashboard that says what to run. */

const graded = (episode_id: string, score: number): LeaderboardEntry & { task_id: string } => ({ task_id: 'easy_mnist', episode_id, score, val_accuracy: 0.9, epochs_used: 10 });

interface TextBox {
  text: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The histogram's <text> labels with boxes estimated from the 11px font (a generous 0.62 em per character). */
function histogramTextBoxes(page: string): TextBox[] {
  const svg = page.slice(page.indexOf('<svg class="hist"'), page.indexOf('</svg>', page.indexOf('<svg class="hist"')));
  return [...svg.matchAll(/<text[^>]* x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)">([^<]*)<\/text>/g)].map(([, x, y, anchor, text]) => {
    const width = text!.length * 11 * 0.62;
    const left = anchor === 'middle' ? Number(x) - width / 2 : anchor === 'end' ? Number(x) - width : Number(x);
    return { text: text!, left, right: left + width, top: Number(y) - 9, bottom: Number(y) + 3 };
  });
}

/** A page's text without its tags. */
const textOf = (page: string) => page.replace(/<[^>]*>/g, '');

const overlaps = (a: TextBox, b: TextBox) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

describe('the pages read well', () => {
  it('the histogram\'s labels never overlap, even with the tallest bar in the last bin (it read "sc1re")', () => {
    const entries = [graded('a', 0.05), graded('b', 0.55), graded('c', 0.95), graded('d', 0.97), graded('e', 0.99), graded('f', 1)];
    const page = renderLeaderboardHtml(buildLeaderboardInput(entries, { group_by: 'episode' }));
    const boxes = histogramTextBoxes(page);
    expect(boxes.map((b) => b.text)).toEqual(expect.arrayContaining(['4', '1', '0', '1', 'score (the number over a bar: episodes)']));
    const collisions = boxes.flatMap((a, i) => boxes.slice(i + 1).filter((b) => overlaps(a, b)).map((b) => `${a.text} / ${b.text}`));
    expect(collisions).toEqual([]);
  });

  it('the baseline says what it is, where its score comes from, and how to play it; a missing one says why', () => {
    const withBaseline = renderLeaderboardHtml(buildLeaderboardInput([graded('a', 0.5)], { baselines: measuredBaselines(), play_target: { url: 'http://127.0.0.1:8123' } }));
    expect(withBaseline).toContain('<dt>Baseline agent score</dt><dd>0.9999');
    expect(withBaseline).toContain("Baseline 0.9999: the grade of the built-in baseline policy (a heuristic ML engineer), measured with real training on the task&#39;s seed 42, recorded with the task.");
    expect(textOf(withBaseline)).toContain('run npx ml-trainer agent --task easy_mnist --policy baseline --url http://127.0.0.1:8123: its episodes appear as agent baseline.');
    expect(withBaseline).toContain('<code class="command"><span>npx</span> <span>ml-trainer</span>');
    expect(withBaseline).not.toContain('not provided');

    const without = renderLeaderboardHtml(buildLeaderboardInput([graded('a', 0.5)]));
    expect(without).toContain('<dt>Baseline</dt><dd><small>none for this task</small>');
    expect(without).toContain('Baseline: none for this task (none was given to this leaderboard). It is the grade of the built-in baseline policy');
    expect(textOf(without)).toContain('To rank it yourself, run npx ml-trainer agent --task easy_mnist --policy baseline: its episodes appear as agent baseline.');
  });

  it('the episode report explains its target card: the task\'s goal, not graded, and the accuracy score at it', async () => {
    const page = renderEpisodeReportHtml(buildEpisodeReport({ record: await finalRecord(MAIN_SCRIPT), episodeId: 'ep' }));
    expect(page).toMatch(/<div id="target-card" title="The validation accuracy this task names as its goal\. The grade does not use it: its accuracy score runs from 0 at 88\.0% to 1 at 97\.5%, and is 0\.84 at the target\."><dt>Target accuracy<\/dt><dd>96\.0% <small class="card-note">the task's stated goal, not graded \(accuracy score 0\.84 there\)<\/small>/);
  });

  it('arguments are JSON with a break opportunity only between fields; the cell no longer breaks anywhere', () => {
    expect(argumentsHtml({ optimizer: 'adamw', weight_decay: 0.0005 }).value).toBe(
      '<code>{<span class="arg">&quot;optimizer&quot;: &quot;adamw&quot;,</span> <span class="arg">&quot;weight_decay&quot;: 0.0005</span>}</code>',
    );
    expect(argumentsHtml({}).value).toBe('<code>{}</code>');
    expect(argumentsHtml('</code>').value).toBe('<code>&quot;&lt;/code&gt;&quot;</code>');
    expect(BASE_CSS).toMatch(/td\.args\{[^}]*overflow-wrap:break-word/);
    expect(BASE_CSS).toContain('td.args .arg{display:inline-block');
  });

  it('the eval report names its agent in a header line of its own, like the episode report', () => {
    const page = renderEvalReportHtml(evalReportData({ agent: { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' }, tasks: [] }));
    expect(page).toContain('<p class="agent" id="eval-agent">Agent <strong class="agent-label">llm gpt-4o-mini @v3</strong> <small class="muted">(policy <code>llm</code> · model <code>gpt-4o-mini</code> · version <code>v3</code>)</small></p>');
  });

  it('the empty dashboard says the one command to run against this server (its real URL, the tenant when not the default), then the protocol routes', async () => {
    const server = await startServer({ service: new InMemoryEpisodeService() });
    try {
      const home = await http('GET', `${server.base}/`);
      const command = `npx ml-trainer agent --task easy_mnist --policy baseline --url ${server.base}</code>`;
      expect(home.text).toContain(command);
      expect(home.text.indexOf(command)).toBeLessThan(home.text.indexOf('POST /reset'));
      const other = await http('GET', `${server.base}/?tenant=team-b`);
      expect(other.text).toContain(`--url ${server.base} --tenant team-b</code>`);
      // The dashboard's leaderboard compares with the tasks' measured baselines and says how to play the baseline here.
      const id = (await http('POST', `${server.base}/v1/episodes`, { task_id: 'medium_fashion' })).json.episode_id as string;
      await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'submit_model', arguments: {} });
      const board = await http('GET', `${server.base}/dashboard/leaderboard`);
      expect(board.text).toContain('<dt>Baseline agent score</dt><dd>0.8506');
      expect(textOf(board.text)).toContain(`run npx ml-trainer agent --task medium_fashion --policy baseline --url ${server.base}:`);
      expect(board.text).not.toContain('MNIST Digit Classifier'); // only the tasks played
    } finally {
      await server.close();
    }
  });
});
