import { agentLabelKey, UNLABELLED_AGENT, type AgentLabel } from '../../core/src';
import { html, type SafeHtml } from './html';

/** Who played, for a page's header: the label's key (what the leaderboard groups by) and its parts, or "unlabelled". */
export function agentLine(agent: AgentLabel | null | undefined, id: string): SafeHtml {
  if (!agent) return html`<p class="agent" id="${id}">Agent <strong class="agent-label">${UNLABELLED_AGENT}</strong> <small class="muted">(started without an agent label)</small></p>`;
  const parts = [
    html`policy <code>${agent.policy}</code>`,
    agent.model === undefined ? null : html`model <code>${agent.model}</code>`,
    agent.version === undefined ? null : html`version <code>${agent.version}</code>`,
  ].filter((p) => p !== null);
  return html`<p class="agent" id="${id}">Agent <strong class="agent-label">${agentLabelKey(agent)}</strong> <small class="muted">(${parts.map((p, i) => html`${i > 0 ? ' · ' : ''}${p}`)})</small></p>`;
}
