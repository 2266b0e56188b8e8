import { compactJson, html, type SafeHtml } from './html';

/**
 * A tool call's arguments as JSON that wraps between its fields, never inside a name or a
 * value: each `"key": value` is one unbreakable-looking box (`.arg`, inline-block) followed by
 * a space, so a narrow column breaks after a comma ("weig ht_decay" was a column that
 * `overflow-wrap: anywhere` let shrink to a few letters). The text is still valid JSON when
 * copied. Anything but a non-empty plain object is shown as compact JSON.
 */
export function argumentsHtml(value: unknown, limit = 400): SafeHtml {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return html`<code>${compactJson(value, limit)}</code>`;
  const entries = Object.entries(value as Record<string, unknown>);
  let budget = limit;
  const pairs: string[] = [];
  for (const [key, item] of entries) {
    const text = `${JSON.stringify(key)}: ${compactJson(item, Math.max(budget, 2))}`;
    budget -= text.length;
    pairs.push(text);
    if (budget <= 0) break;
  }
  const cut = pairs.length < entries.length;
  return html`<code>{${pairs.map((p, i) => html`<span class="arg">${p}${i < pairs.length - 1 ? ',' : cut ? ', …' : ''}</span>${i < pairs.length - 1 ? ' ' : ''}`)}}</code>`;
}
