// The HTML report in a real headless browser, when one is installed (Debian: apt-get install
// chromium). jsdom (report/renderers.ts) checks the structure everywhere; this checks what only a
// real engine knows: that the heatmap PNGs decode to the map's size, and the layout at 1280 px —
// the page does not scroll sideways, no checks table scrolls, and every result cell on screen lies
// inside the window (and still does at 900 px, where the table scrolls under a sticky result
// column). Chromium is driven over the DevTools protocol on a pipe (bench/chromium.ts), one
// launch for the whole test; a screenshot is taken at 1280 px.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chromium, CHROMIUM } from '../../bench/chromium.js';
import { cli, sample, ROOT, tmp } from '../helpers.js';

interface Layout {
  innerWidth: number;
  scrollWidth: number;
  /** Result cells shown (checkVisibility: not inside a folded <details>): [left, right] in CSS px. */
  verdicts: [number, number][];
  /** Result cells of passing cases not shown (folded). */
  foldedVerdicts: number;
  /** Checks tables shown: [scrollWidth, clientWidth]. */
  tables: [number, number][];
}

const LAYOUT = `(() => {
  const box = (e) => e.getBoundingClientRect();
  const shown = [...document.querySelectorAll('td.verdict')].filter((e) => e.checkVisibility());
  return {
    innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    verdicts: shown.map((e) => [box(e).left, box(e).right]),
    foldedVerdicts: document.querySelectorAll('section.case.pass td.verdict').length - shown.filter((e) => e.closest('section.case.pass')).length,
    tables: [...document.querySelectorAll('.table-wrap')].filter((e) => e.checkVisibility()).map((e) => [e.scrollWidth, e.clientWidth]),
  };
})()`;

test('the HTML report in headless Chromium: heatmap images decode, the result column is visible at 1280 px', { skip: CHROMIUM ? false : 'no Chromium on this machine (apt-get install chromium)', timeout: 90_000 }, async () => {
  // A suite with the widest checks table a run makes (a candidate: three rows per tensor, and a
  // precision preset: the criterion column) beside the small samples, one of them failing.
  const dir = tmp();
  const tol = join(ROOT, 'test', 'fixtures', 'tolerance');
  for (const f of ['mismatch.npz', 'lengths.npz', 'bidir_2layer.npz']) copyFileSync(sample(f), join(dir, f));
  for (const f of ['tol_base.npz', 'port_outliers8.npz']) copyFileSync(join(tol, f), join(dir, f));
  writeFileSync(
    join(dir, 'suite.json'),
    JSON.stringify({
      gruCheckSuite: 1,
      cases: [{ case: 'bidir_2layer.npz' }, { case: 'mismatch.npz' }, { case: 'lengths.npz' }, { case: 'tol_base.npz', candidate: 'port_outliers8.npz', portPrecision: 'int8' }],
    }),
  );
  const html = join(dir, 'report.html');
  const run = await cli(['run', '--suite', join(dir, 'suite.json'), '--report', html]);
  assert.equal(run.code, 1, run.stderr);

  const browser = Chromium.launch();
  try {
    const page = await browser.page(1280, 900);
    const t = await page.open(`file://${html}`);
    assert.ok(t.nav.loadEventEnd > 0, 'the load event fired');
    const sections = await page.evaluate<string[]>(`[...document.querySelectorAll('section.case')].map((s) => s.className)`);
    assert.deepEqual(sections, ['case fail', 'case fail', 'case pass', 'case pass'], 'failing cases first');

    // Every heatmap's PNG, decoded by the browser: one pixel per drawn cell.
    const images = await page.evaluate<[number, number, string, string][]>(`Promise.all([...document.querySelectorAll('svg.heatmap')].map(async (svg) => {
      const img = new Image();
      img.src = svg.querySelector('image.cells').getAttribute('href');
      await img.decode();
      return [img.naturalWidth, img.naturalHeight, svg.dataset.cols, svg.dataset.rows];
    }))`);
    assert.ok(images.length >= 10, `${images.length} heatmaps`);
    for (const [w, h, cols, rows] of images) assert.deepEqual([String(w), String(h)], [cols, rows]);

    // 1280 px: nothing scrolls sideways, and every result cell on screen is inside the window.
    const wide = await page.evaluate<Layout>(LAYOUT);
    assert.equal(wide.innerWidth, 1280);
    assert.ok(wide.scrollWidth <= wide.innerWidth, `page ${wide.scrollWidth} px wide`);
    assert.equal(wide.verdicts.length, 2 + 6, 'the failing cases\' checks (mismatch 2, tol_base with a candidate 6), and nothing else open');
    for (const [l, r] of wide.verdicts) assert.ok(l >= 0 && r <= wide.innerWidth, `result cell at ${l}–${r} px`);
    assert.ok(wide.foldedVerdicts > 0, 'passing cases folded');
    for (const [sw, cw] of wide.tables) assert.ok(sw <= cw, `a checks table scrolls (${sw} > ${cw} px)`);
    const shot = await page.screenshot();
    writeFileSync(join(dir, 'report-1280.png'), shot);
    assert.equal(shot.subarray(1, 4).toString('latin1'), 'PNG');
    assert.equal(shot.readUInt32BE(16), 1280, 'screenshot width');
    assert.ok(shot.length > 20_000, `a real picture, not a blank page (${shot.length} bytes)`);

    // 900 px: the table scrolls, the result column stays in view (sticky at the right edge).
    await browser.send('Emulation.setDeviceMetricsOverride', { width: 900, height: 900, deviceScaleFactor: 1, mobile: false }, page.sessionId);
    const narrow = await page.evaluate<Layout>(LAYOUT);
    assert.equal(narrow.innerWidth, 900);
    assert.equal(narrow.verdicts.length, wide.verdicts.length);
    for (const [l, r] of narrow.verdicts) assert.ok(l >= 0 && r <= narrow.innerWidth, `result cell at ${l}–${r} px`);
  } finally {
    await browser.close();
  }
});
