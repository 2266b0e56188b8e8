import { agentLabelKey } from '../../core/src';
import type { EvalReportData } from './eval-report-data';
import { html, renderPage } from './html';

/** The eval report as one self-contained HTML document (no script, no request). */
export function renderEvalReportHtml(data: EvalReportData): string {
  const body = html`<header><h1>${data.title}</h1><p class="subtitle">agent <code>${agentLabelKey(data.agent)}</code> · ${data.environment}</p></header>`;
  return renderPage({ title: data.title, body });
}
