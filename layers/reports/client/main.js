// @ts-check
/*
 * Entry of the inlined page script: draws the charts of a report page from its JSON twin
 * (#report-data), and on the dashboard starts the live updates named by data-live-* /
 * data-list-* attributes of <body>.
 */
import { EpisodeCharts } from './charts.js';
import { startLiveEpisode, startLiveList } from './live.js';

function start() {
  const body = document.body;
  const data = document.getElementById('report-data');
  if (data && data.textContent) {
    /** @type {import('../src/episode-report').EpisodeReport} */
    const report = JSON.parse(data.textContent);
    const charts = new EpisodeCharts(document, report);
    charts.update(true);
    body.dataset.chartsReady = 'true';
    const events = body.dataset.liveEvents;
    const api = body.dataset.liveApi;
    if (events && api && typeof EventSource === 'function') startLiveEpisode(charts, events, api);
  }
  const listEvents = body.dataset.listEvents;
  const listApi = body.dataset.listApi;
  if (listEvents && listApi && typeof EventSource === 'function') startLiveList(listEvents, listApi);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
