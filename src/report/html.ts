/**
 * --format html: ONE self-contained HTML file (inline CSS, SVG and PNG data URIs; no scripts, fonts
 * or URLs to fetch, so it works as a CI artifact opened offline). Failing and erroring cases come
 * first; a passing case is folded into one line (<details>). Per case: the GRU config, the checks
 * table (it wraps to fit a 1280 px window; the result column is also sticky at the right edge), the
 * diagnosis and `where` when diagnose ran, and per check with data, plots open when it fails and
 * folded when it passes:
 *   - a line plot of max |error| per time step (stepMaxAbs), log-scale y, dashed line at atol;
 *   - a heatmap of errorMap (time step x feature for output, layer*direction x hidden unit for
 *     h_n), colour = log10 |error|, with a colour bar: ONE palette PNG, a pixel per (bucketed)
 *     cell, scaled up with image-rendering: pixelated (a rect per cell made a 6-case report of a
 *     small speech encoder 29 MB and slow to open);
 *   - a histogram of |error| by octave (log2 bins, counts linear, a lone element still visible),
 *     atol marked: "a few outliers" and "everything slightly off" look different.
 *
 * Pure string building. Every piece of user text (case paths, error messages, prefixes) goes
 * through esc(): a case path is attacker-controlled in CI (a file name in a PR), and this file is
 * opened in a browser.
 *
 * Markup contract used by the tests (keep stable): section.case.{pass,fail,error}#case-<run index>,
 * details.case-body around a passing case, figure.check-fig > details.plots[open when failing];
 * svg.plot[data-tensor], svg.heatmap with data-rows/data-cols (the PNG's height/width, after
 * bucketing), data-src-rows/data-src-cols, data-max-row/data-max-col (first source index of the
 * hottest bucket) and data-max (its max |error|), image.cells (palette index 255 = the top of
 * the colour scale); svg.histogram[data-tensor] with data-bins, data-zeros and rect.bar with
 * data-exp (the bin covers [2^exp, 2^(exp + octaves))), data-octaves and data-count; .diagnosis
 * with p.where, ol > li per variant that matches, is likely or closest, details.tried for the rest.
 */
import { deflateSync } from 'node:zlib';
import type { CaseResult, DiagnosisEntry } from '../result.js';
import type { CheckResult } from '../result.js';
import type { RunSummary } from '../result.js';
import { fmtIndex, shapeInParens, pct, sci } from './format.js';
import { baselineTexts, configText, countsText, criterionText, detailsText, diagnosisVerdict, fmtCosine, paddedText, presetSources, presetText, toleranceText, warningTexts } from './describe.js';
import { DEFAULT_ERROR_QUANTILE } from '../compare/stats.js';
import { escapeControlsKeepLines } from '../io/text.js';
import { crc32 } from '../io/npz.js';
import { argMax, checkLabel, downsampleMax, logFloor, tensorName } from './sparkline.js';

export interface HtmlOptions {
  /** Heatmaps larger than this per axis are bucketed by max (default 200: 40,000 cells at most). */
  maxCells?: number;
  /** Line plots with more steps are bucketed by max (default 1000: beyond the plot's pixels). */
  maxPoints?: number;
}

// ---------------------------------------------------------------------------------------------
// Escaping

/**
 * Text and attribute values alike (attributes are always double-quoted, but `'` is escaped too so
 * the function is safe anywhere). Control characters other than tab/newline are shown as escapes
 * (\x1b): they are parse errors in HTML, and a reader should see that the name holds one.
 */
export function esc(s: string): string {
  return escapeControlsKeepLines(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Coordinates: two decimals is sub-pixel, more only grows the file. */
const f2 = (x: number): string => String(Math.round(x * 100) / 100);

/** `1e-5` for a decade tick: shorter than 1.00e-5 and exact. */
const decade = (d: number): string => (d === 0 ? '1' : `1e${d}`);

// ---------------------------------------------------------------------------------------------
// Colour: ColorBrewer YlOrRd, pale yellow (small error) to dark red (large): reads as "red = bad"
// on a light page and stays ordered in greyscale print.

const YLORRD = ['#ffffcc', '#ffeda0', '#fed976', '#feb24c', '#fd8d3c', '#fc4e2a', '#e31a1c', '#bd0026', '#800026'];

function colorAt(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (YLORRD.length - 1);
  const i = Math.min(YLORRD.length - 2, Math.floor(x));
  const a = YLORRD[i]!;
  const b = YLORRD[i + 1]!;
  const mix = (k: number): number => {
    const ca = parseInt(a.slice(k, k + 2), 16);
    const cb = parseInt(b.slice(k, k + 2), 16);
    return Math.round(ca + (cb - ca) * (x - i));
  };
  return `#${[1, 3, 5].map((k) => mix(k).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The log10 range a plot or heatmap maps onto: up to the larger of the data's max and atol (so a
 * passing check looks pale and the atol mark is always on the scale), down to a floor chosen like
 * the sparkline's (smallest positive value, but at most 6 decades below the top). Zeros sit at
 * the bottom. Returns null when there is nothing positive at all (all zero and atol 0).
 */
function logDomain(values: readonly number[], atol: number): { lo: number; hi: number } | null {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (atol > 0) pos.push(atol);
  if (pos.length === 0) return null;
  const floor = logFloor(pos);
  const hi = Math.log10(pos.reduce((a, b) => Math.max(a, b), 0));
  let lo = Math.log10(floor);
  if (hi - lo < 1e-9) lo = hi - 1; // flat: give the scale one decade of room
  return { lo, hi };
}

// ---------------------------------------------------------------------------------------------
// Line plot: max |error| per time step

function niceStep(span: number, maxTicks: number): number {
  const raw = Math.max(1, span / maxTicks);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.max(1, m * p);
  return 10 * p;
}

function linePlot(k: CheckResult, maxPoints: number): string {
  const steps = k.stepMaxAbs!;
  const T = steps.length;
  const W = 560;
  const H = 260;
  const m = { l: 64, r: 20, t: 18, b: 44 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;

  // Bucket long series by max, like the sparkline: a single bad step must survive.
  const pts = downsampleMax(steps, maxPoints);
  const per = T / pts.length;
  const xOf = (step: number): number => m.l + (T > 1 ? (step / (T - 1)) * pw : pw / 2);

  const dom = logDomain(steps, k.atol) ?? { lo: -1, hi: 0 };
  // Whole decades on the axis so every tick is a labelled power of ten.
  const dLo = Math.floor(dom.lo);
  // A little headroom: a max (or atol) that is an exact power of ten would sit on the frame.
  const dHi = Math.max(Math.ceil(dom.hi + 0.15), dLo + 1);
  const yOf = (v: number): number => {
    const l = v > 0 && Number.isFinite(v) ? Math.log10(v) : v > 0 ? dHi : dLo; // 0 -> bottom, inf -> top
    const c = Math.min(dHi, Math.max(dLo, l));
    return m.t + ph - ((c - dLo) / (dHi - dLo)) * ph;
  };

  const out: string[] = [];
  out.push(
    `<svg class="plot" data-tensor="${esc(k.tensor)}" data-steps="${T}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${checkLabel(k)}: max |error| per time step, log scale`)}">`,
  );
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" class="plot-bg"/>`);

  // y ticks: every decade, or every 2nd/3rd... when the range is wide, labelled 1e-k.
  const every = Math.max(1, Math.ceil((dHi - dLo) / 8));
  for (let d = dLo; d <= dHi; d += every) {
    const y = yOf(10 ** d);
    out.push(`<line class="grid" x1="${m.l}" x2="${m.l + pw}" y1="${f2(y)}" y2="${f2(y)}"/>`);
    out.push(`<text class="tick" x="${m.l - 6}" y="${f2(y + 4)}" text-anchor="end">${decade(d)}</text>`);
  }
  // x ticks: a 1-2-5 step, at most ~10 labels.
  const xs = niceStep(Math.max(1, T - 1), 10);
  for (let s = 0; s <= T - 1; s += xs) {
    const x = xOf(s);
    out.push(`<line class="axis" x1="${f2(x)}" x2="${f2(x)}" y1="${m.t + ph}" y2="${m.t + ph + 5}"/>`);
    out.push(`<text class="tick" x="${f2(x)}" y="${m.t + ph + 18}" text-anchor="middle">${s}</text>`);
  }
  out.push(`<line class="axis" x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}"/>`);
  out.push(`<line class="axis" x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}"/>`);
  out.push(`<text class="label" x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle">time step${per > 1 ? ` (max over buckets of ~${Math.ceil(per)})` : ''}</text>`);
  out.push(`<text class="label" transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">max |error| (log)</text>`);

  // The tolerance: atol only — the per-element bound is atol + rtol*|expected|, so points a bit
  // above the line can still pass; the label says which it is.
  if (k.atol > 0) {
    const y = yOf(k.atol);
    out.push(`<line class="atol" x1="${m.l}" x2="${m.l + pw}" y1="${f2(y)}" y2="${f2(y)}"/>`);
    out.push(`<text class="atol-label" x="${m.l + pw - 4}" y="${f2(y - 5)}" text-anchor="end">atol ${esc(sci(k.atol))}</text>`);
  }

  const coords = pts.map((v, i) => [xOf(Math.min(T - 1, Math.floor(i * per))), yOf(v)] as const);
  if (coords.length > 1) out.push(`<polyline class="series" points="${coords.map(([x, y]) => `${f2(x)},${f2(y)}`).join(' ')}"/>`);
  // Markers only while they stay distinguishable; each carries its value as a hover title.
  if (coords.length <= 80) {
    coords.forEach(([x, y], i) => {
      const s = Math.floor(i * per);
      out.push(`<circle class="pt" cx="${f2(x)}" cy="${f2(y)}" r="3"><title>step ${s}: ${sci(pts[i])}</title></circle>`);
    });
  }
  if (k.firstMismatchStep !== null) {
    const s = k.firstMismatchStep;
    const x = xOf(s);
    const y = yOf(steps[s]!);
    out.push(`<circle class="bad" cx="${f2(x)}" cy="${f2(y)}" r="6"><title>first bad step ${s}</title></circle>`);
    const right = x > m.l + pw * 0.7;
    out.push(`<text class="bad-label" x="${f2(right ? x - 10 : x + 10)}" y="${f2(Math.max(m.t + 12, y - 8))}" text-anchor="${right ? 'end' : 'start'}">first bad step ${s}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// PNG: a palette image, one pixel per (bucketed) heatmap cell. One <image> instead of one <rect>
// per cell keeps a report of big maps small and fast to lay out (47,000 rects made a 6-case
// report 7.6 MB); the browser scales it up with image-rendering: pixelated, so cells stay sharp.

function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** The colour ramp in 256 steps: palette index i is colorAt(i / 255). */
const PALETTE = Array.from({ length: 256 }, (_, i) => colorAt(i / 255));

/** An 8-bit palette PNG (colour type 3) of `index` (width * height palette indices, row-major). */
function palettePng(width: number, height: number, index: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 3, 0, 0, 0], 8); // bit depth 8, palette, deflate, filter method 0, no interlace
  const plte = Buffer.from(PALETTE.flatMap((c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16))));
  // Each scanline: filter type 0 (none), then its indices.
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(index.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('PLTE', plte),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Heatmap: errorMap rows x cols

interface Buckets {
  /** First source index of each bucket, plus the end as a last entry. */
  edges: number[];
}

function buckets(n: number, max: number): Buckets {
  const w = Math.min(n, Math.max(1, max));
  return { edges: Array.from({ length: w + 1 }, (_, b) => Math.floor((b * n) / w)) };
}

function heatmap(k: CheckResult, id: string, maxCells: number): string {
  const em = k.errorMap!;
  const rb = buckets(em.rows, maxCells);
  const cb = buckets(em.cols, maxCells);
  const R = rb.edges.length - 1;
  const C = cb.edges.length - 1;
  const vals = bucketMax(em, rb, cb);
  const bucketed = R < em.rows || C < em.cols;
  const g = heatmapGeometry(R, C);
  const dom = logDomain(vals, k.atol);
  const png = palettePng(C, R, colourIndex(vals, dom)).toString('base64');

  const at = argMax(vals);
  const hot = at >= 0 && vals[at]! > 0 ? { r: Math.floor(at / C), c: at % C, v: vals[at]! } : null;
  const span = (b: Buckets, i: number): string => `${b.edges[i]}${b.edges[i + 1]! - 1 > b.edges[i]! ? `–${b.edges[i + 1]! - 1}` : ''}`;
  const hotWhere = hot ? `${em.rowLabel} ${span(rb, hot.r)}, ${em.colLabel} ${span(cb, hot.c)}` : '';
  const maxAttrs = hot ? ` data-max="${hot.v}" data-max-row="${rb.edges[hot.r]}" data-max-col="${cb.edges[hot.c]}"` : '';
  const { m, gy, gw, gh, cw, chh, W, H } = g;

  const out: string[] = [];
  out.push(
    `<svg class="heatmap" data-tensor="${esc(k.tensor)}" data-rows="${R}" data-cols="${C}" data-src-rows="${em.rows}" data-src-cols="${em.cols}"${maxAttrs} width="${f2(W)}" height="${f2(H)}" viewBox="0 0 ${f2(W)} ${f2(H)}" role="img" aria-label="${esc(`${checkLabel(k)}: max |error| per ${em.rowLabel} and ${em.colLabel}, log colour scale`)}">`,
  );
  // One pixel per cell, stretched to the grid: preserveAspectRatio none because rows and columns
  // scale independently; pixelated so a 4 x 4 map shows 16 sharp squares, not a blur.
  out.push(
    `<image class="cells" x="${m.l}" y="${f2(gy)}" width="${f2(gw)}" height="${f2(gh)}" preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering: pixelated" href="data:image/png;base64,${png}"><title>${esc(hot ? `max |error| ${sci(hot.v)} at ${hotWhere}` : 'no error')}</title></image>`,
  );
  out.push(`<rect class="frame" x="${m.l}" y="${f2(gy)}" width="${f2(gw)}" height="${f2(gh)}"/>`);
  // With cells a few pixels wide one hot element is a speck: ring the hottest cell so it cannot
  // be missed (bucketing already kept its value; this keeps it visible).
  if (Math.min(cw, chh) < 10 && dom && hot) {
    const cx = m.l + (hot.c + 0.5) * cw;
    const cy = gy + (hot.r + 0.5) * chh;
    out.push(`<circle class="hot" cx="${f2(cx)}" cy="${f2(cy)}" r="9"><title>${esc(`max ${sci(hot.v)} at ${hotWhere}`)}</title></circle>`);
  }
  heatmapAxes(out, g, R, C, rb, cb, em, bucketed);
  colourBar(out, g, dom, k.atol, id);
  out.push('</svg>');
  return out.join('\n');
}

/** Max over each bucket: the hottest element must stay hot however much the map is shrunk. */
function bucketMax(em: NonNullable<CheckResult['errorMap']>, rb: Buckets, cb: Buckets): number[] {
  const R = rb.edges.length - 1;
  const C = cb.edges.length - 1;
  const vals = new Array<number>(R * C).fill(0);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      let mx = 0;
      for (let i = rb.edges[r]!; i < rb.edges[r + 1]!; i++) {
        for (let j = cb.edges[c]!; j < cb.edges[c + 1]!; j++) {
          const v = em.values[i * em.cols + j]!;
          if (v > mx || Number.isNaN(v)) mx = Number.isNaN(v) ? Infinity : v;
        }
      }
      vals[r * C + c] = mx;
    }
  }
  return vals;
}

/** Where a heatmap's grid and colour bar go (px). */
interface HeatmapGeometry {
  /** Cell width and height. */
  cw: number;
  chh: number;
  m: { l: number; t: number; b: number };
  /** The grid's width, height and top; the colour bar's height and left. */
  gw: number;
  gh: number;
  gy: number;
  barH: number;
  barX: number;
  W: number;
  H: number;
}

function heatmapGeometry(R: number, C: number): HeatmapGeometry {
  // Cells up to 32 px, shrinking to fit ~560 x 380; rows and columns scale independently so a
  // long, narrow map (many steps, few features) still fills the space.
  const cw = Math.min(32, 560 / C);
  const chh = Math.min(32, 380 / R);
  const m = { l: 60, t: 12, b: 44 };
  const gw = cw * C;
  const gh = chh * R;
  // The colour bar needs ~120 px to carry a few decade labels; a short grid (h_n of a one-layer
  // GRU is a single row) is centred on it, which also leaves room for the rotated row label.
  const barH = Math.max(gh, 120);
  const gy = m.t + (barH - gh) / 2;
  const barX = m.l + gw + 20;
  const W = barX + 14 + 56;
  const H = m.t + barH + m.b;
  return { cw, chh, m, gw, gh, gy, barH, barX, W, H };
}

/** Each cell's palette index: its place on the log scale of dom, 0 to 255. */
function colourIndex(vals: readonly number[], dom: { lo: number; hi: number } | null): Uint8Array {
  const tOf = (v: number): number => {
    if (!dom) return 0;
    if (!Number.isFinite(v)) return 1;
    if (!(v > 0)) return 0;
    return (Math.log10(v) - dom.lo) / (dom.hi - dom.lo);
  };
  const index = new Uint8Array(vals.length);
  for (let i = 0; i < vals.length; i++) index[i] = Math.round(Math.min(1, Math.max(0, tOf(vals[i]!))) * 255);
  return index;
}

/** Axis ticks at bucket starts, about 8 per axis, labelled with source indices; the axis labels. */
function heatmapAxes(out: string[], g: HeatmapGeometry, R: number, C: number, rb: Buckets, cb: Buckets, em: NonNullable<CheckResult['errorMap']>, bucketed: boolean): void {
  const { m, gy, gw, gh, cw, chh } = g;
  const tickEvery = (n: number, px: number): number => Math.max(1, Math.ceil(n / Math.max(1, Math.min(10, Math.floor(px / 28)))));
  const rEvery = tickEvery(R, gh);
  for (let r = 0; r < R; r += rEvery) {
    out.push(`<text class="tick" x="${m.l - 6}" y="${f2(gy + (r + 0.5) * chh + 4)}" text-anchor="end">${rb.edges[r]}</text>`);
  }
  const cEvery = tickEvery(C, gw);
  for (let c = 0; c < C; c += cEvery) {
    out.push(`<text class="tick" x="${f2(m.l + (c + 0.5) * cw)}" y="${f2(gy + gh + 16)}" text-anchor="middle">${cb.edges[c]}</text>`);
  }
  const note = bucketed ? ' (bucketed, max)' : '';
  out.push(`<text class="label" x="${f2(m.l + gw / 2)}" y="${f2(gy + gh + 36)}" text-anchor="middle">${esc(em.colLabel)}${note}</text>`);
  out.push(`<text class="label" transform="translate(14 ${f2(gy + gh / 2)}) rotate(-90)" text-anchor="middle">${esc(em.rowLabel)}</text>`);
}

/** Colour bar: the same ramp top (large) to bottom (small), decade ticks, atol marked. */
function colourBar(out: string[], g: HeatmapGeometry, dom: { lo: number; hi: number } | null, atol: number, id: string): void {
  const { m, barX, barH } = g;
  out.push(`<defs><linearGradient id="${id}" x1="0" y1="1" x2="0" y2="0">`);
  YLORRD.forEach((c, i) => out.push(`<stop offset="${f2(i / (YLORRD.length - 1))}" stop-color="${c}"/>`));
  out.push('</linearGradient></defs>');
  out.push(`<rect class="colorbar" x="${f2(barX)}" y="${m.t}" width="14" height="${f2(barH)}" fill="url(#${id})"/>`);
  if (dom) {
    const yOf = (l: number): number => m.t + barH - ((l - dom.lo) / (dom.hi - dom.lo)) * barH;
    const span = dom.hi - dom.lo;
    const every = Math.max(1, Math.ceil(span / 6));
    const atolY = atol > 0 ? yOf(Math.log10(atol)) : null;
    // The top of the bar is the map's max (or atol): label it with its value unless atol is there.
    const topLabelled = atolY === null || Math.abs(atolY - m.t) >= 11;
    if (topLabelled) out.push(`<text class="tick" x="${f2(barX + 20)}" y="${f2(m.t + 4)}">${esc(sci(10 ** dom.hi))}</text>`);
    for (let d = Math.ceil(dom.lo); d <= Math.floor(dom.hi); d += every) {
      const y = yOf(d);
      out.push(`<line class="axis" x1="${f2(barX + 14)}" x2="${f2(barX + 18)}" y1="${f2(y)}" y2="${f2(y)}"/>`);
      // atol and the max label take precedence over a decade label they would overprint.
      const clash = (atolY !== null && Math.abs(y - atolY) < 11) || (topLabelled && Math.abs(y - m.t) < 11);
      if (!clash) out.push(`<text class="tick" x="${f2(barX + 20)}" y="${f2(y + 4)}">${decade(d)}</text>`);
    }
    if (atolY !== null) {
      out.push(`<line class="atol" x1="${f2(barX - 2)}" x2="${f2(barX + 18)}" y1="${f2(atolY)}" y2="${f2(atolY)}"/>`);
      out.push(`<text class="atol-label" x="${f2(barX + 20)}" y="${f2(atolY + 4)}">atol</text>`);
    }
  } else {
    out.push(`<text class="tick" x="${f2(barX + 20)}" y="${m.t + barH}">0</text>`);
  }
  out.push(`<text class="tick" x="${f2(barX)}" y="${f2(m.t + barH + 16)}">|error|</text>`);
}

// ---------------------------------------------------------------------------------------------
// Histogram: |error| by octave

/** log10(2): octaves to decades. */
const LOG10_2 = Math.log10(2);

function histogramPlot(k: CheckResult): string {
  const h = k.errorHistogram!;
  // The octaves drawn: the errors', widened to take in atol so the mark is always on the scale.
  let lo = h.minExp;
  let hi = h.minExp + h.counts.length; // exclusive
  const atolExp = k.atol > 0 ? Math.log2(k.atol) : null;
  if (atolExp !== null) {
    lo = Math.min(lo, Math.floor(atolExp));
    hi = Math.max(hi, Math.floor(atolExp) + 1);
  }
  const per = Math.max(1, Math.ceil((hi - lo) / 120));
  const nb = Math.ceil((hi - lo) / per);
  const counts = new Array<number>(nb).fill(0);
  h.counts.forEach((c, i) => (counts[Math.floor((h.minExp + i - lo) / per)] += c));
  const W = 560;
  const H = 220;
  const m = { l: 56, r: 16, t: 16, b: 44 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const bw = pw / nb;
  const xOfExp = (e: number): number => m.l + ((e - lo) / (hi - lo)) * pw;
  const max = Math.max(1, ...counts);
  const out: string[] = [];
  out.push(
    `<svg class="histogram" data-tensor="${esc(k.tensor)}" data-bins="${nb}" data-zeros="${h.zeros}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${checkLabel(k)}: |error| by octave, counts`)}">`,
  );
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" class="plot-bg"/>`);
  // y: a few round counts.
  const step = niceStep(max, 4);
  for (let v = 0; v <= max; v += step) {
    const y = m.t + ph - (v / max) * ph;
    out.push(`<line class="grid" x1="${m.l}" x2="${m.l + pw}" y1="${f2(y)}" y2="${f2(y)}"/>`);
    out.push(`<text class="tick" x="${m.l - 6}" y="${f2(y + 4)}" text-anchor="end">${v}</text>`);
  }
  counts.forEach((c, i) => {
    if (c === 0) return;
    const exp = lo + i * per;
    // A lone element keeps 2 px: the outlier the plot is for must not vanish.
    const bh = Math.max(2, (c / max) * ph);
    const range = `${sci(2 ** exp)} <= |error| < ${sci(2 ** (exp + per))}`;
    out.push(`<rect class="bar" data-exp="${exp}" data-octaves="${per}" data-count="${c}" x="${f2(m.l + i * bw + 0.5)}" y="${f2(m.t + ph - bh)}" width="${f2(Math.max(1, bw - 1))}" height="${f2(bh)}"><title>${esc(`${range}: ${c} element${c === 1 ? '' : 's'}`)}</title></rect>`);
  });
  // x: decade ticks on the log2 axis.
  for (let d = Math.ceil(lo * LOG10_2); d <= Math.floor(hi * LOG10_2); d += Math.max(1, Math.ceil(((hi - lo) * LOG10_2) / 10))) {
    const x = xOfExp(d / LOG10_2);
    out.push(`<line class="axis" x1="${f2(x)}" x2="${f2(x)}" y1="${m.t + ph}" y2="${m.t + ph + 5}"/>`);
    out.push(`<text class="tick" x="${f2(x)}" y="${m.t + ph + 18}" text-anchor="middle">${decade(d)}</text>`);
  }
  out.push(`<line class="axis" x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}"/>`);
  out.push(`<line class="axis" x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}"/>`);
  out.push(`<text class="label" x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle">|error| (log, one bar per ${per === 1 ? 'octave' : `${per} octaves`})</text>`);
  out.push(`<text class="label" transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">elements</text>`);
  if (atolExp !== null) {
    const x = xOfExp(atolExp);
    out.push(`<line class="atol" x1="${f2(x)}" x2="${f2(x)}" y1="${m.t}" y2="${m.t + ph}"/>`);
    const right = x > m.l + pw * 0.7;
    out.push(`<text class="atol-label" x="${f2(right ? x - 4 : x + 4)}" y="${m.t + 12}" text-anchor="${right ? 'end' : 'start'}">atol ${esc(sci(k.atol))}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Page

/** A number in a table cell: never broken at the exponent's minus sign (1.64e-|7). */
const num = (x: number | null | undefined): string => `<span class="n">${sci(x)}</span>`;

function checksTable(c: CaseResult): string {
  const q = `q${c.checks[0]?.errorQuantile ?? DEFAULT_ERROR_QUANTILE}`;
  const criterion = c.checks.some((k) => !k.problem && criterionText(k) !== '');
  // The terminal table's columns (mean folded into the abs err statistics), headers and cells
  // allowed to wrap, so the table fits a 1280 px window and the result column is never scrolled
  // out of view (it is also sticky at the right edge for narrower windows).
  const head = ['tensor', 'subject vs against', 'shape', 'mismatched', 'max abs err [index]', 'max rel err [index]', `abs err mean / median / ${q}`, `rel err median / ${q}`, 'rel L2', 'cosine', 'atol needed', 'first bad step', ...(criterion ? ['criterion'] : []), 'result'];
  const rows = c.checks.map((k) => {
    const verdict = k.pass ? '<td class="verdict pass">PASS</td>' : '<td class="verdict fail">FAIL</td>';
    const lead = `<td class="tensor">${esc(tensorName(k))}</td><td>${esc(`${k.subject} vs ${k.against}`)}</td><td class="nw">${esc(shapeInParens(k.shape))}</td>`;
    if (k.problem) return `<tr class="fail">${lead}<td colspan="${head.length - 4}">${esc(k.problem)}</td>${verdict}</tr>`;
    const nonFinite = k.nonFiniteMismatched > 0 ? ` <span class="warn">+${k.nonFiniteMismatched} NaN/inf</span>` : '';
    const cells = [
      `${k.mismatched}/${k.total} <span class="idx">(${pct(k.mismatched, k.total)})</span>`,
      `${num(k.maxAbsError)} <span class="idx">${esc(fmtIndex(k.maxAbsIndex))}</span>${nonFinite}`,
      `${num(k.maxRelError)} <span class="idx">${esc(fmtIndex(k.maxRelIndex))}</span>`,
      `${num(k.meanAbsError)} / ${num(k.medianAbsError)} / ${num(k.quantileAbsError)}`,
      `${num(k.medianRelError)} / ${num(k.quantileRelError)}`,
      num(k.relL2),
      `<span class="n">${esc(fmtCosine(k.cosine))}</span>`,
      k.requiredAtol === null ? 'none' : num(k.requiredAtol),
      k.firstMismatchStep === null ? (k.tensor === 'output' ? '—' : '') : String(k.firstMismatchStep),
      ...(criterion ? [esc(criterionText(k))] : []),
    ];
    return `<tr class="${k.pass ? 'pass' : 'fail'}">${lead}${cells.map((x) => `<td>${x}</td>`).join('')}${verdict}</tr>`;
  });
  return `<div class="table-wrap"><table class="checks"><thead><tr>${head.map((h, i) => `<th${i === head.length - 1 ? ' class="verdict"' : ''}>${h}</th>`).join('')}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

const VERDICT_BADGE: Record<DiagnosisEntry['verdict'], [cls: string, text: string]> = {
  matches: ['pass', 'matches'],
  likely: ['likely', 'likely'],
  closest: ['closest', 'closest'],
  no: ['muted', 'no match'],
};

/**
 * diagnose's findings: where the tensors under test fail, then the variants best first. Those that
 * match, are likely or are closest are listed; the rest (every mistake tried that explains
 * nothing) are folded away, counted.
 */
function diagnosisBlock(c: CaseResult): string {
  const ds = c.diagnosis ?? [];
  const item = (d: DiagnosisEntry): string => {
    const [cls, text] = VERDICT_BADGE[d.verdict] ?? VERDICT_BADGE.no;
    return `<li class="${d.matches ? 'match' : 'nomatch'} verdict-${esc(d.verdict)}"><span class="badge ${cls}">${text}</span> <code>${esc(d.variant)}</code> — ${esc(d.fix)} <span class="idx">(${esc(diagnosisVerdict(d))})</span></li>`;
  };
  const shown = ds.filter((d) => d.verdict !== 'no');
  const rest = ds.filter((d) => d.verdict === 'no');
  const out: string[] = ['<div class="diagnosis">', '<h3>Diagnosis <span class="idx">porting mistakes re-enacted, best first</span></h3>'];
  if (c.where) out.push(`<p class="where"><strong>where:</strong> ${esc(c.where.summary)}</p>`);
  if (shown.length > 0) out.push(`<ol>\n${shown.map(item).join('\n')}\n</ol>`);
  else if (ds.length > 0) out.push('<p class="none">No known porting mistake reproduces the tensors under test.</p>');
  if (rest.length > 0) {
    const what = `${rest.length} other variant${rest.length === 1 ? '' : 's'} tried, none close`;
    out.push(`<details class="tried"><summary>${what}</summary><ol start="${shown.length + 1}">\n${rest.map(item).join('\n')}\n</ol></details>`);
  }
  out.push('</div>');
  return out.join('\n');
}

/** Failing and erroring cases first (in run order), then the passing ones. */
function caseOrder(cases: readonly CaseResult[]): number[] {
  const idx = cases.map((_, i) => i);
  return [...idx.filter((i) => !cases[i]!.pass || cases[i]!.error !== undefined), ...idx.filter((i) => cases[i]!.pass && cases[i]!.error === undefined)];
}

function caseSection(c: CaseResult, ci: number, o: Required<HtmlOptions>): string {
  const state = c.error !== undefined ? 'error' : c.pass ? 'pass' : 'fail';
  const badge = `<span class="badge ${state}">${state === 'error' ? 'ERROR' : state.toUpperCase()}</span>`;
  const title = `<h2>${badge} <code>${esc(c.case)}</code></h2>`;
  const out: string[] = [`<section class="case ${state}" id="case-${ci}">`];
  if (c.error !== undefined) {
    out.push(title, `<p class="error-msg">${c.errorCode ? `<code>${esc(c.errorCode)}</code> ` : ''}${esc(c.error)}</p>`, '</section>');
    return out.join('\n');
  }
  // A passing case is one line until opened: its plots are what a reader of a failing run skips.
  if (state === 'pass') {
    const worst = c.checks.reduce((a, k) => Math.max(a, k.maxAbsError ?? 0), 0);
    out.push(`<details class="case-body"><summary>${title} <span class="idx">${c.checks.length} check${c.checks.length === 1 ? '' : 's'} pass, max |error| ${sci(worst)}</span></summary>`);
  } else {
    out.push(title);
  }
  out.push(`<p class="config"><code>${esc(configText(c))}</code></p>`);
  out.push(`<p class="details">${esc(detailsText(c))}<br>tolerance: ${esc(toleranceText(c))}</p>`);
  const preset = presetText(c);
  if (preset) out.push(`<div class="preset"><p><strong>${esc(preset)}</strong></p><ul>${presetSources(c).map((l) => `<li>${esc(l)}</li>`).join('')}</ul></div>`);
  const warnings = warningTexts(c);
  if (warnings.length > 0) out.push(`<ul class="warnings">${warnings.map((w) => `<li>warning: ${esc(w)}</li>`).join('')}</ul>`);
  const padded = paddedText(c);
  if (padded) out.push(`<p class="padded"><strong>padded steps:</strong> ${esc(padded)}</p>`);
  out.push(checksTable(c));
  const baseline = baselineTexts(c);
  if (baseline.length > 0) out.push(`<ul class="baseline">${baseline.map((b) => `<li>baseline: ${esc(b)}</li>`).join('')}</ul>`);
  if ((c.diagnosis && c.diagnosis.length > 0) || c.where) out.push(diagnosisBlock(c));
  c.checks.forEach((k, ki) => {
    if (!k.stepMaxAbs && !k.errorMap && !k.errorHistogram) return;
    // Each check's caption stays visible; its plots are open when it fails, folded when it passes.
    out.push(`<figure class="check-fig ${k.pass ? 'pass' : 'fail'}">`);
    out.push(`<figcaption>${esc(checkLabel(k))} <span class="badge ${k.pass ? 'pass' : 'fail'}">${k.pass ? 'PASS' : 'FAIL'}</span> <span class="idx">max |error| ${sci(k.maxAbsError)} ${esc(fmtIndex(k.maxAbsIndex))}</span></figcaption>`);
    out.push(`<details class="plots"${k.pass ? '' : ' open'}><summary>plots</summary>`);
    out.push('<div class="figs">');
    if (k.stepMaxAbs && k.stepMaxAbs.length > 0) out.push(`<div><h4>max |error| per time step</h4>\n${linePlot(k, o.maxPoints)}</div>`);
    if (k.errorMap && k.errorMap.rows > 0 && k.errorMap.cols > 0) {
      out.push(`<div><h4>max |error| per ${esc(k.errorMap.rowLabel)} × ${esc(k.errorMap.colLabel)}</h4>\n${heatmap(k, `cb-${ci}-${ki}`, o.maxCells)}</div>`);
    }
    const h = k.errorHistogram;
    if (h && (h.counts.length > 0 || h.zeros > 0)) {
      const zeros = h.zeros > 0 ? ` <span class="idx">(${h.zeros} exact, not drawn)</span>` : '';
      out.push(`<div><h4>|error| by octave${zeros}</h4>\n${histogramPlot(k)}</div>`);
    }
    out.push('</div></details></figure>');
  });
  if (state === 'pass') out.push('</details>');
  out.push('</section>');
  return out.join('\n');
}

const CSS = `
:root { color-scheme: light; --pass: #1a7f37; --fail: #cf222e; --err: #9a6700; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #fff; margin: 0; padding: 24px 32px; max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 12px 0 4px; }
h4 { font-size: 12px; font-weight: 600; color: var(--muted); margin: 0 0 4px; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.banner { padding: 12px 16px; border-radius: 6px; font-size: 16px; font-weight: 600; margin-bottom: 16px; border: 1px solid; }
.banner.pass { background: #dafbe1; border-color: #4ac26b; color: #116329; }
.banner.fail { background: #ffebe9; border-color: #ff8182; color: #a40e26; }
.index { margin: 0 0 20px; padding-left: 20px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 700; color: #fff; vertical-align: 1px; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); } .badge.error { background: var(--err); } .badge.muted { background: #8c959f; }
.badge.likely { background: #9a6700; } .badge.closest { background: #bc4c00; }
.case { border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 6px; padding: 14px 18px; margin: 0 0 20px; }
.case.pass { border-left-color: var(--pass); } .case.fail { border-left-color: var(--fail); } .case.error { border-left-color: var(--err); }
.config { margin: 4px 0; } .details { margin: 4px 0 10px; color: var(--muted); }
.error-msg { color: #a40e26; }
.warnings li { color: #8a5300; }
.baseline li { color: #a40e26; }
.table-wrap { overflow-x: auto; }
table.checks { border-collapse: separate; border-spacing: 0; font-size: 13px; margin: 6px 0 10px; }
table.checks th, table.checks td { border: solid var(--line); border-width: 0 1px 1px 0; padding: 4px 6px; text-align: left; vertical-align: top; }
table.checks tr > :first-child { border-left-width: 1px; } table.checks thead th { border-top-width: 1px; }
table.checks th { background: #f6f8fa; font-size: 12px; font-weight: 600; }
table.checks td { background: #fff; } table.checks tr.fail td { background: #fff5f5; }
table.checks .idx, table.checks .n, table.checks .nw, table.checks td.tensor { white-space: nowrap; }
table.checks .verdict { position: sticky; right: 0; box-shadow: -2px 0 3px rgba(0, 0, 0, 0.06); }
td.verdict { font-weight: 700; } td.verdict.pass { color: var(--pass); } td.verdict.fail { color: var(--fail); }
.idx { color: var(--muted); font-size: 12px; font-weight: 400; }
.warn { color: var(--err); }
.diagnosis ol { margin: 4px 0 10px; padding-left: 24px; } .diagnosis li { margin: 2px 0; } .diagnosis li.verdict-no { color: var(--muted); }
.diagnosis .where { margin: 4px 0; } .diagnosis details.tried > summary { color: var(--muted); cursor: pointer; }
figure.check-fig { margin: 12px 0 4px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
details.plots > summary { color: var(--muted); font-size: 12px; cursor: pointer; margin-bottom: 6px; }
details.case-body > summary { cursor: pointer; } details.case-body > summary h2 { display: inline; margin: 0; }
details.case-body[open] > summary { margin-bottom: 8px; }
.figs { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
svg { font: 11px system-ui, sans-serif; overflow: visible; }
svg .plot-bg { fill: #fff; stroke: none; }
svg .grid { stroke: #eaeef2; } svg .axis { stroke: #57606a; } svg .frame { fill: none; stroke: #57606a; }
svg .tick { fill: #57606a; } svg .label { fill: #1f2328; font-size: 12px; }
svg .series { fill: none; stroke: #0969da; stroke-width: 1.5; } svg .pt { fill: #0969da; }
svg .atol { stroke: #cf222e; stroke-width: 1.2; stroke-dasharray: 5 4; } svg .atol-label { fill: #cf222e; }
svg .bad { fill: none; stroke: #cf222e; stroke-width: 2; } svg .bad-label { fill: #cf222e; font-weight: 600; }
svg .colorbar { stroke: #57606a; stroke-width: 0.5; }
svg .hot { fill: none; stroke: #0969da; stroke-width: 2; }
svg .bar { fill: #0969da; }
.preset p { margin: 6px 0 2px; } .preset ul { margin: 0 0 10px; padding-left: 20px; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
`;

export function renderHtml(s: RunSummary, options: HtmlOptions = {}): string {
  const o: Required<HtmlOptions> = { maxCells: options.maxCells ?? 200, maxPoints: options.maxPoints ?? 1000 };
  const verdict = s.pass ? 'pass' : 'fail';
  // Sections (and the index) in reading order: what failed first. Anchors keep the run's order.
  const order = caseOrder(s.cases);
  const index = order
    .map((i) => {
      const c = s.cases[i]!;
      const st = c.error !== undefined ? 'error' : c.pass ? 'pass' : 'fail';
      return `<li><span class="badge ${st}">${st.toUpperCase()}</span> <a href="#case-${i}"><code>${esc(c.case)}</code></a></li>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gru-check: ${esc(countsText(s))}</title>
<style>${CSS}</style>
</head>
<body>
<h1>gru-check report</h1>
<div class="banner ${verdict}">${s.pass ? '✔ PASS' : '✘ FAIL'} — ${esc(countsText(s))}</div>
<ul class="index">
${index}
</ul>
${order.map((i) => caseSection(s.cases[i]!, i, o)).join('\n')}
<footer>Failing cases come first with their plots open; passing cases and checks are folded (click to open). Errors are |reference − expected| (or candidate − …) per element; plots and heatmaps show the max over the other axes. Log scales: zeros are drawn at the bottom of the scale.</footer>
</body>
</html>
`;
}
