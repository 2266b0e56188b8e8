// @ts-check
/*
 * The report's charts, drawn in the browser with uPlot from the report's JSON twin.
 * Bundled (with uPlot) into layers/reports/generated/assets.ts by build-assets.mjs.
 * Plain JavaScript type-checked through JSDoc: `npx tsc -p layers/reports/client`.
 */
import uPlot from 'uplot';

/** @typedef {import('../src/episode-report').EpisodeReport} EpisodeReport */
/** @typedef {import('../../core/src/episode').EpochProgress} EpochProgress */
/** @typedef {{ run: number, progress: EpochProgress }} LiveEpoch */
/** @typedef {{ x: number, trainLoss: number, valLoss: number, trainAcc: number, valAcc: number, lr: number }} Point */
/** @typedef {{ x: number, label: string, color: string, dash: number[], width?: number }} VerticalMark */
/** @typedef {{ y: number, label: string, color: string, dash: number[] }} HorizontalMark */
/** @typedef {{ x: number, y: number, color: string, label: string }} DotMark */
/** @typedef {{ vertical: VerticalMark[], horizontal: HorizontalMark[], dots: DotMark[] }} Marks */

/** @param {string} name */
function cssVar(name) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || '#777777';
}

/**
 * The points to draw: the report's epochs, then live epochs of a running step that the
 * report does not hold yet.
 * @param {EpisodeReport} report
 * @param {EpochProgress[]} live
 * @returns {Point[]}
 */
export function chartPoints(report, live) {
  /** @type {Map<number, Point>} */
  const byX = new Map();
  for (const p of report.epochs) {
    byX.set(p.epoch, { x: p.epoch, trainLoss: p.train_loss, valLoss: p.val_loss, trainAcc: p.train_accuracy, valAcc: p.val_accuracy, lr: p.lr });
  }
  const lastModelEpoch = report.epochs.length > 0 ? report.epochs[report.epochs.length - 1].model_epoch : 0;
  const offset = report.curves.first_epoch - 1;
  for (const p of live) {
    if (p.diverged || p.val_loss === null || p.val_accuracy === null || p.epoch <= lastModelEpoch) continue;
    const x = offset + p.epoch;
    byX.set(x, { x, trainLoss: p.train_loss, valLoss: p.val_loss, trainAcc: p.train_accuracy, valAcc: p.val_accuracy, lr: p.learning_rate });
  }
  return [...byX.values()].sort((a, b) => a.x - b.x);
}

/**
 * @param {EpisodeReport} report
 * @param {EpochProgress[]} live
 * @returns {number | null} the episode epoch where the current model diverged
 */
function divergedEpoch(report, live) {
  if (report.diverged) return report.diverged.epoch;
  const d = live.find((p) => p.diverged);
  return d ? report.curves.first_epoch + d.epoch : null;
}

/**
 * Vertical marks shared by the charts: configuration changes of the current model (placed
 * before the first epoch they applied to) and a divergence.
 * @param {EpisodeReport} report
 * @param {EpochProgress[]} live
 * @returns {VerticalMark[]}
 */
function changeMarks(report, live) {
  const marker = cssVar('--marker');
  /** @type {Map<number, string[]>} */
  const labels = new Map();
  for (const m of report.markers) {
    if (m.model_epoch === null) continue;
    labels.set(m.epoch, [...(labels.get(m.epoch) ?? []), m.label]);
  }
  /** @type {VerticalMark[]} */
  const marks = [...labels.entries()].map(([epoch, l]) => ({ x: epoch - 0.5, label: l.join(', '), color: marker, dash: [2, 3], width: 1.5 }));
  const diverged = divergedEpoch(report, live);
  if (diverged !== null) marks.push({ x: diverged, label: 'diverged', color: cssVar('--bad'), dash: [], width: 2 });
  return marks;
}

/**
 * Draws the marks over the plot (a uPlot plugin); labels are stacked so they do not overlap.
 * @param {() => Marks} getMarks
 * @returns {uPlot.Plugin}
 */
function marksPlugin(getMarks) {
  return {
    hooks: {
      draw: [
        (u) => {
          const marks = getMarks();
          const ctx = u.ctx;
          const dpr = uPlot.pxRatio;
          const { left, top, width, height } = u.bbox;
          const bg = cssVar('--card');
          const marker = cssVar('--marker');
          const markerInk = cssVar('--marker-ink');
          ctx.save();
          ctx.font = `${11 * dpr}px system-ui, sans-serif`;
          ctx.textBaseline = 'top';
          ctx.textAlign = 'left';
          /** @type {number[]} right end of the last label in each row */
          const rows = [];
          /** @param {string} text @param {number} x @param {number} y @param {string} color */
          const label = (text, x, y, color) => {
            const w = ctx.measureText(text).width;
            const lx = Math.max(left + 2 * dpr, Math.min(x, left + width - w - 2 * dpr));
            // A halo in the background colour keeps the text readable over lines without hiding them.
            ctx.lineJoin = 'round';
            ctx.lineWidth = 3 * dpr;
            ctx.strokeStyle = bg;
            ctx.strokeText(text, lx, y);
            ctx.fillStyle = color;
            ctx.fillText(text, lx, y);
            return lx + w;
          };
          for (const h of marks.horizontal) {
            const y = Math.round(u.valToPos(h.y, 'y', true)) + 0.5;
            if (y < top || y > top + height) continue;
            ctx.strokeStyle = h.color;
            ctx.lineWidth = 1.5 * dpr;
            ctx.setLineDash(h.dash.map((d) => d * dpr));
            ctx.beginPath();
            ctx.moveTo(left, y);
            ctx.lineTo(left + width, y);
            ctx.stroke();
            ctx.setLineDash([]);
            label(h.label, left + 4 * dpr, y + 3 * dpr, h.color);
          }
          for (const v of marks.vertical) {
            const x = Math.round(u.valToPos(v.x, 'x', true)) + 0.5;
            if (x < left - 1 || x > left + width + 1) continue;
            ctx.strokeStyle = v.color;
            ctx.lineWidth = (v.width ?? 1.5) * dpr;
            ctx.setLineDash(v.dash.map((d) => d * dpr));
            ctx.beginPath();
            ctx.moveTo(x, top - (v.label ? 16 * dpr : 0));
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.setLineDash([]);
            if (v.label) {
              const lx = Math.max(left + 2 * dpr, Math.min(x + 3 * dpr, left + width - ctx.measureText(v.label).width - 2 * dpr));
              let row = rows.findIndex((end) => lx > end + 4 * dpr);
              if (row === -1) row = rows.length;
              // Row 0 sits in the padding above the plot (over no data); further rows go down inside it.
              rows[row] = label(v.label, lx, top - 15 * dpr + row * 14 * dpr, v.color === marker ? markerInk : v.color);
            }
          }
          for (const d of marks.dots) {
            const x = u.valToPos(d.x, 'x', true);
            const y = u.valToPos(d.y, 'y', true);
            ctx.strokeStyle = d.color;
            ctx.lineWidth = 2 * dpr;
            ctx.beginPath();
            ctx.arc(x, y, 6 * dpr, 0, 2 * Math.PI);
            ctx.stroke();
            if (d.label) label(d.label, x + 8 * dpr, y + 6 * dpr, d.color);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** Room above the plot for the labels of the vertical marks. */
const PAD_TOP = 20;

/** @param {number} v */
const percent = (v) => `${Math.round(v * 1000) / 10}%`;

/** @param {number} v */
function formatLr(v) {
  if (v === 0) return '0';
  return Math.abs(v) < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/**
 * @typedef {object} ChartSpec
 * @property {'loss' | 'accuracy' | 'lr'} kind
 * @property {number} height
 */

/**
 * The charts of one report page: create(), then update() with a newer report or live epochs.
 */
export class EpisodeCharts {
  /**
   * @param {ParentNode} root where the [data-chart] containers are
   * @param {EpisodeReport} report
   */
  constructor(root, report) {
    this.root = root;
    this.report = report;
    /** @type {LiveEpoch[]} epochs of steps running now, not yet in the report */
    this.live = [];
    /** @type {Map<string, { plot: uPlot, el: HTMLElement, height: number }>} */
    this.plots = new Map();
    /** @type {Point[]} */
    this.points = [];
    /** @type {ResizeObserver | null} */
    this.observer = typeof ResizeObserver === 'function' ? new ResizeObserver(() => this.resize()) : null;
    const scheme = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
    scheme?.addEventListener('change', () => this.rebuild());
  }

  /** @param {EpisodeReport} report */
  setReport(report) {
    const rebuild = report.curves.generation !== this.report.curves.generation;
    this.report = report;
    if (rebuild) this.live = [];
    this.update(rebuild);
  }

  /** @param {number} run @param {EpochProgress} progress */
  addLive(run, progress) {
    this.live.push({ run, progress });
    this.update(false);
  }

  /** Forgets the live epochs of a step that ended (the report now holds them, or they were never committed). @param {number} run */
  clearRun(run) {
    const before = this.live.length;
    this.live = this.live.filter((l) => l.run !== run);
    if (this.live.length !== before) this.update(false);
  }

  /** @returns {EpochProgress[]} */
  liveProgress() {
    return this.live.map((l) => l.progress);
  }

  rebuild() {
    this.update(true);
  }

  /** Draws (or redraws) every chart. @param {boolean} rebuild destroy and create the plots again */
  update(rebuild) {
    this.points = chartPoints(this.report, this.liveProgress());
    for (const el of /** @type {NodeListOf<HTMLElement>} */ (this.root.querySelectorAll('[data-chart]'))) {
      const kind = /** @type {'loss' | 'accuracy' | 'lr'} */ (el.dataset.chart);
      const existing = this.plots.get(kind);
      if (this.points.length === 0) {
        if (existing) {
          existing.plot.destroy();
          this.plots.delete(kind);
        }
        if (!el.querySelector('.empty')) {
          const p = document.createElement('p');
          p.className = 'empty';
          p.textContent = 'No epoch recorded yet.';
          el.replaceChildren(p);
        }
        continue;
      }
      const data = this.dataOf(kind);
      if (existing && !rebuild && existing.el === el && el.isConnected) {
        existing.plot.setData(data, true);
        continue;
      }
      existing?.plot.destroy();
      el.replaceChildren();
      const height = kind === 'lr' ? 150 : window.innerWidth < 640 ? 210 : 250;
      const plot = new uPlot(this.optionsOf(kind, Math.max(200, el.clientWidth), height), data, el);
      this.plots.set(kind, { plot, el, height });
      this.observer?.observe(el);
    }
    this.describe();
    // For tests and curious users: how many epochs the charts show.
    document.body.dataset.chartPoints = String(this.points.length);
  }

  resize() {
    for (const { plot, el, height } of this.plots.values()) {
      const width = Math.max(200, el.clientWidth);
      if (Math.abs(plot.width - width) > 1) plot.setSize({ width, height });
    }
  }

  /** Keeps the charts' accessible names in step with the data. */
  describe() {
    const n = this.points.length;
    const last = this.points[n - 1];
    const range = n === 0 ? 'no epochs yet' : `epochs ${this.points[0].x} to ${last.x}`;
    /** @type {Record<string, string>} */
    const text = {
      loss: `Line chart of training and validation loss, ${range}${last ? `; last validation loss ${last.valLoss.toFixed(4)}` : ''}.`,
      accuracy: `Line chart of training and validation accuracy, ${range}${last ? `; last validation accuracy ${percent(last.valAcc)}` : ''}.`,
      lr: `Step chart of the learning rate per epoch, ${range}${last ? `; last ${formatLr(last.lr)}` : ''}.`,
    };
    for (const el of /** @type {NodeListOf<HTMLElement>} */ (this.root.querySelectorAll('[data-chart]'))) {
      const kind = el.dataset.chart ?? '';
      if (text[kind]) el.setAttribute('aria-label', `${text[kind]} The values are in the table Per-epoch metrics.`);
    }
  }

  /** @param {'loss' | 'accuracy' | 'lr'} kind @returns {uPlot.AlignedData} */
  dataOf(kind) {
    const xs = this.points.map((p) => p.x);
    if (kind === 'loss') return [xs, this.points.map((p) => p.trainLoss), this.points.map((p) => p.valLoss)];
    if (kind === 'accuracy') return [xs, this.points.map((p) => p.trainAcc), this.points.map((p) => p.valAcc)];
    return [xs, this.points.map((p) => p.lr)];
  }

  /** @returns {[number, number]} */
  xRange() {
    const first = Math.min(this.report.curves.first_epoch, this.points[0]?.x ?? Infinity);
    let last = this.points[this.points.length - 1]?.x ?? first;
    for (const m of changeMarks(this.report, this.liveProgress())) last = Math.max(last, Math.ceil(m.x));
    return [first - 0.5, Math.max(last, first) + 0.5];
  }

  /**
   * @param {'loss' | 'accuracy' | 'lr'} kind
   * @param {number} width
   * @param {number} height
   * @returns {uPlot.Options}
   */
  optionsOf(kind, width, height) {
    const fg = cssVar('--fg');
    const grid = cssVar('--line');
    const train = cssVar('--train');
    const val = cssVar('--val');
    const points = this.points.length <= 40;
    /** @type {uPlot.Axis} */
    const xAxis = {
      stroke: fg,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      label: 'Epoch',
      labelSize: 18,
      space: 36,
      incrs: [1, 2, 5, 10, 20, 25, 50, 100],
      values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')),
    };
    /** @param {string} label @param {(u: uPlot, splits: number[]) => string[]} values @returns {uPlot.Axis} */
    const yAxis = (label, values) => ({ stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, label, labelSize: 18, size: 56, values });
    /** @type {uPlot.Legend} */
    const legend = { show: true, live: true, markers: { width: 3, dash: (u, i) => (u.series[i].dash ? 'dashed' : 'solid') } };
    const xScale = { time: false, range: () => this.xRange() };
    /** @type {uPlot.Series} */
    const xSeries = { label: 'Epoch', value: legendValue(String, ' (last)') };
    const report = () => this.report;
    const live = () => this.liveProgress();

    if (kind === 'lr') {
      const color = cssVar('--lr');
      return {
        width,
        height,
        padding: [PAD_TOP, 12, 0, 0],
        legend,
        cursor: { drag: { x: false, y: false } },
        scales: { x: xScale, y: { range: (_u, _min, max) => [0, (max || 1) * 1.15] } },
        axes: [xAxis, yAxis('LR', (_u, splits) => splits.map(formatLr))],
        series: [
          xSeries,
          {
            label: 'learning rate',
            stroke: color,
            width: 2,
            paths: uPlot.paths.stepped?.({ align: 1 }),
            points: { show: points, size: 5, stroke: color, fill: color },
            value: legendValue(formatLr),
          },
        ],
        plugins: [marksPlugin(() => ({ vertical: changeMarks(report(), live()), horizontal: [], dots: [] }))],
      };
    }

    const isAcc = kind === 'accuracy';
    const format = isAcc ? percent : (/** @type {number} */ v) => v.toFixed(4);
    /** @param {string} label @param {string} color @param {number[] | undefined} dash @returns {uPlot.Series} */
    const line = (label, color, dash) => ({
      label,
      stroke: color,
      width: 2,
      ...(dash ? { dash } : {}),
      points: { show: points, size: 5, stroke: color, fill: color },
      value: legendValue(format),
    });
    /** @returns {Marks} */
    const marks = () => {
      const r = report();
      /** @type {Marks} */
      const m = { vertical: changeMarks(r, live()), horizontal: [], dots: [] };
      if (isAcc) {
        m.horizontal.push({ y: r.task.target_value, label: `target ${percent(r.task.target_value)}`, color: cssVar('--target'), dash: [8, 4] });
        const best = bestPoint(r, this.points);
        if (best) {
          m.vertical.push({ x: best.x, label: '', color: cssVar('--best'), dash: [1, 3], width: 1.5 });
          m.dots.push({ x: best.x, y: best.valAcc, color: cssVar('--best'), label: `best ${percent(best.valAcc)}` });
        }
      }
      return m;
    };
    return {
      width,
      height,
      padding: [PAD_TOP, 12, 0, 0],
      legend,
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: xScale,
        y: isAcc
          ? {
              range: (_u, min, max) => {
                const target = report().task.target_value;
                const lo = Math.max(0, Math.min(min ?? target, target) - 0.03);
                return [lo, Math.min(1, Math.max(max ?? target, target) + 0.03)];
              },
            }
          : { range: (_u, min, max) => [Math.max(0, (min ?? 0) - ((max ?? 1) - (min ?? 0)) * 0.08), (max ?? 1) + ((max ?? 1) - (min ?? 0)) * 0.12 || 1] },
      },
      axes: [xAxis, yAxis(isAcc ? 'Accuracy' : 'Loss', (_u, splits) => splits.map((v) => (isAcc ? percent(v) : String(Number(v.toPrecision(3))))))],
      series: [xSeries, line('train', train, undefined), line('validation', val, [6, 3])],
      plugins: [marksPlugin(marks)],
    };
  }
}

/**
 * A legend's value: the hovered epoch's, or, while the cursor is off the chart (uPlot then
 * asks with no index), the last epoch's, so the legend never reads "Epoch: — train: —".
 * @param {(v: number) => string} format
 * @param {string} [offChart] appended to the last epoch's value
 * @returns {(u: uPlot, v: number | null, seriesIdx: number, idx: number | null) => string}
 */
function legendValue(format, offChart = '') {
  return (u, v, seriesIdx, idx) => {
    if (idx !== null && idx !== undefined) return v === null || v === undefined ? '—' : format(v);
    const last = lastValue(u.data[seriesIdx]);
    return last === null ? '—' : `${format(last)}${offChart}`;
  };
}

/** @param {ArrayLike<number | null | undefined> | undefined} values @returns {number | null} */
function lastValue(values) {
  for (let i = (values?.length ?? 0) - 1; i >= 0; i--) {
    const v = values?.[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/**
 * The best validation accuracy among the drawn points (the report's best epoch while no
 * live epoch beat it).
 * @param {EpisodeReport} report
 * @param {Point[]} points
 * @returns {Point | null}
 */
function bestPoint(report, points) {
  /** @type {Point | null} */
  let best = null;
  const fromReport = report.best ? points.find((p) => p.x === report.best?.epoch) ?? null : null;
  for (const p of points) if (best === null || p.valAcc > best.valAcc) best = p;
  // The core keeps the first epoch that reached the maximum.
  if (fromReport && best && fromReport.valAcc >= best.valAcc) return fromReport;
  return best;
}
