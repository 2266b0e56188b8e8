import { html, type SafeHtml } from './html';

/** Where a page's episodes are played: the server's URL and, when not its default, the tenant. */
export interface PlayTarget {
  url: string;
  tenant?: string | null;
}

/** The one command that plays a policy on a task: on the target server, or in-process without one. */
export function playCommand(taskId: string, policy: string, target: PlayTarget | null | undefined): string {
  const server = target ? ` --url ${target.url}${target.tenant ? ` --tenant ${target.tenant}` : ''}` : '';
  return `npx ml-trainer agent --task ${taskId} --policy ${policy}${server}`;
}

/** A command in running text: it wraps between its words only (never after the hyphen of "--url"). */
export function commandHtml(command: string): SafeHtml {
  return html`<code class="command">${command.split(' ').map((word, i) => html`${i > 0 ? ' ' : ''}<span>${word}</span>`)}</code>`;
}
