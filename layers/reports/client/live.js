// @ts-check
/*
 * The dashboard's live updates over server-sent events: an episode page follows the epochs
 * of a step while it trains, and the episode list follows steps and new episodes.
 */

/** @typedef {import('../src/episode-report').EpisodeReport} EpisodeReport */
/** @typedef {import('../../core/src/episode').EpochProgress} EpochProgress */
/** @typedef {import('./charts.js').EpisodeCharts} EpisodeCharts */

/**
 * Replaces an element's content, keeping which <details> were open (by id).
 * @param {Element | null} el
 * @param {string} markup server-rendered HTML (escaped there)
 */
function replaceContent(el, markup) {
  if (!el || el.innerHTML === markup) return;
  const open = new Set([...el.querySelectorAll('details[open][id]')].map((d) => d.id));
  const focused = document.activeElement && el.contains(document.activeElement) ? document.activeElement.id : '';
  el.innerHTML = markup;
  for (const id of open) document.getElementById(id)?.setAttribute('open', '');
  if (focused) document.getElementById(focused)?.focus();
}

/** @param {string} text @returns {any} */
function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A reason on the one-line status: its first REASON_STATUS_LENGTH characters. */
const REASON_STATUS_LENGTH = 160;
/** @param {string} text */
const shortened = (text) => (text.length > REASON_STATUS_LENGTH ? `${text.slice(0, REASON_STATUS_LENGTH - 1)}…` : text).replace(/\s+/g, ' ');

/** @param {number | null | undefined} v */
const pct = (v) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '—');

/**
 * @param {EpisodeCharts} charts
 * @param {string} eventsUrl
 * @param {string} apiUrl
 */
export function startLiveEpisode(charts, eventsUrl, apiUrl) {
  const status = document.getElementById('live-status');
  /** @param {string} text */
  const say = (text) => {
    if (status && status.textContent !== text) status.textContent = text;
  };
  /** @type {Promise<void> | null} */
  let running = null;
  let again = false;

  const refresh = () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        const response = await fetch(apiUrl, { headers: { accept: 'application/json' }, cache: 'no-store' });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const body = /** @type {{ report: EpisodeReport, overview: string, details: string }} */ (await response.json());
        replaceContent(document.getElementById('episode-overview'), body.overview);
        replaceContent(document.getElementById('episode-details'), body.details);
        charts.setReport(body.report);
        document.body.dataset.version = String(body.report.version ?? '');
      } catch (error) {
        say(`Could not refresh the episode (${error instanceof Error ? error.message : String(error)}); retrying on the next event.`);
      } finally {
        running = null;
        if (again) {
          again = false;
          void refresh();
        }
      }
    })();
    return running;
  };

  const source = new EventSource(eventsUrl);
  source.addEventListener('open', () => void refresh());
  source.addEventListener('error', () => say('Connection to the server lost; reconnecting…'));
  source.addEventListener('step_started', (event) => {
    const d = parse(/** @type {MessageEvent} */ (event).data);
    if (!d) return;
    say(`Step running: ${d.tool}…${typeof d.reason === 'string' ? ` The agent's reason: ${shortened(d.reason)}` : ''}`);
  });
  source.addEventListener('epoch', (event) => {
    const d = parse(/** @type {MessageEvent} */ (event).data);
    if (!d || !d.progress) return;
    /** @type {EpochProgress} */
    const p = d.progress;
    charts.addLive(Number(d.run), p);
    document.body.dataset.liveEpochs = String(charts.live.length);
    say(
      p.diverged
        ? `${d.tool}: epoch ${p.index} of ${p.total} diverged.`
        : `${d.tool}: epoch ${p.index} of ${p.total} done, validation accuracy ${pct(p.val_accuracy)}.`,
    );
  });
  source.addEventListener('step_ended', (event) => {
    const d = parse(/** @type {MessageEvent} */ (event).data);
    if (!d) return;
    if (d.ok) say(`Step ${d.step} (${d.tool}) done${d.done ? ': the episode has ended.' : '.'}`);
    else if (d.error_code !== 'in_progress') say(`A ${d.tool} request failed (${d.error_code})${d.error_message ? `: ${d.error_message}` : '.'}`);
    void refresh().then(() => charts.clearRun(Number(d.run)));
  });
  return source;
}

/**
 * @param {string} eventsUrl
 * @param {string} apiUrl
 */
export function startLiveList(eventsUrl, apiUrl) {
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  const refresh = async () => {
    timer = null;
    try {
      const response = await fetch(apiUrl, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (!response.ok) return;
      const body = /** @type {{ html: string }} */ (await response.json());
      replaceContent(document.getElementById('episode-list'), body.html);
    } catch {
      // The next event tries again.
    }
  };
  const schedule = () => {
    if (timer === null) timer = setTimeout(() => void refresh(), 250);
  };
  const source = new EventSource(eventsUrl);
  for (const type of ['open', 'episode_created', 'step_started', 'step_ended']) source.addEventListener(type, schedule);
  return source;
}
