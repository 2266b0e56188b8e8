import { STEP_REASON_MAX_LENGTH, type AgentLabel, type ToolCall } from '../../layers/core/src';
import { buildEpisodeReport, renderEpisodeReportHtml } from '../../layers/reports/src';
import { finalRecord, INJECTION, MAIN_SCRIPT } from './helpers';

const LLM: AgentLabel = { policy: 'llm', model: 'gpt-4o-mini', version: 'v3' };
const LONG_REASON = `The validation loss has flattened for three epochs.\n${'Lowering the learning rate should let it settle. '.repeat(12)}`.trim();

/** MAIN_SCRIPT with the agent's reasons: a short one, a long multi-line one, one with markup. */
const REASONED: ToolCall[] = MAIN_SCRIPT.map((call, i) =>
  i === 0 ? { ...call, reason: 'Adam with cosine decay is a safe start.' } : i === 2 ? { ...call, reason: LONG_REASON } : i === 4 ? { ...call, reason: INJECTION } : call,
);

describe('episode report: who played and why', () => {
  it('the JSON twin carries the label (key and parts) and each step its stored reason; unlabelled is null', async () => {
    const record = await finalRecord(REASONED, 'easy_mnist', LLM);
    const report = buildEpisodeReport({ record, episodeId: 'ep-1' });
    expect(report.agent).toEqual({ policy: 'llm', model: 'gpt-4o-mini', version: 'v3', key: 'llm gpt-4o-mini @v3' });
    expect(report.timeline.map((t) => t.reason)).toEqual(record.steps.map((s) => s.reason ?? null));
    expect(report.timeline[0]!.reason).toBe('Adam with cosine decay is a safe start.');
    expect(report.timeline[2]!.reason).toBe(LONG_REASON);
    expect(report.timeline[1]!.reason).toBeNull();

    const bare = buildEpisodeReport({ record: await finalRecord(MAIN_SCRIPT) });
    expect(bare.agent).toBeNull();
    expect(bare.timeline.every((t) => t.reason === null)).toBe(true);
  });

  it('the header names the agent and its parts; the timeline shows reasons next to the calls, long ones folded, all escaped', async () => {
    const page = renderEpisodeReportHtml(buildEpisodeReport({ record: await finalRecord(REASONED, 'easy_mnist', LLM), episodeId: 'ep-1' }));
    expect(page).toContain('<p class="agent" id="episode-agent">Agent <strong class="agent-label">llm gpt-4o-mini @v3</strong> <small class="muted">(policy <code>llm</code> · model <code>gpt-4o-mini</code> · version <code>v3</code>)</small></p>');
    expect(page).toContain("<th scope=\"col\">Agent's reason</th>");
    // Short: as it is, in the row of its call.
    expect(page).toMatch(/<td class="tool"><code>configure_training<\/code><\/td><td class="args">[^\n]*<td class="reason"><span class="reason-text">Adam with cosine decay is a safe start\.<\/span><\/td>/);
    // Long: folded behind its first line, complete inside (line breaks kept by CSS, not lost).
    expect(page).toContain('<details id="reason-step-3"><summary>The validation loss has flattened for three epochs. … <small class="muted">(all ');
    expect(page).toContain(`<p class="reason-text">${LONG_REASON.replace(/'/g, '&#39;')}</p>`);
    // Markup in a reason is text.
    expect(page).not.toContain('<script>window.__pwned');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('<span class="reason-text">&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    // A step without a reason shows a dash.
    expect(page).toMatch(/<code>run_epochs<\/code><\/td><td class="args"><code>\{<span class="arg">&quot;num_epochs&quot;: 5<\/span>\}<\/code><\/td><td class="reason"><span class="muted">—<\/span><\/td>/);
  });

  it('an unlabelled episode says so; a label with markup stays text', async () => {
    const bare = renderEpisodeReportHtml(buildEpisodeReport({ record: await finalRecord(MAIN_SCRIPT) }));
    expect(bare).toContain('Agent <strong class="agent-label">unlabelled</strong> <small class="muted">(started without an agent label)</small>');
    const hostile = renderEpisodeReportHtml(buildEpisodeReport({ record: await finalRecord(MAIN_SCRIPT, 'easy_mnist', { policy: '<b>x</b>', version: '"><i>' }) }));
    expect(hostile).toContain('Agent <strong class="agent-label">&lt;b&gt;x&lt;/b&gt; @&quot;&gt;&lt;i&gt;</strong>');
    expect(hostile).not.toContain('<b>x</b>');
  });

  it('a reason at the stored limit is shown whole (folded), never cut by the report', async () => {
    const limit = 'x'.repeat(STEP_REASON_MAX_LENGTH);
    const record = await finalRecord([{ tool: 'configure_training', arguments: {}, reason: limit }], 'easy_mnist', LLM);
    const page = renderEpisodeReportHtml(buildEpisodeReport({ record }));
    expect(page).toContain(`<p class="reason-text">${limit}</p>`);
    expect(page).toContain(`(all ${STEP_REASON_MAX_LENGTH} characters)`);
  });
});
