// The sparkline, JUnit, markdown and HTML renderers, fed with results of real runs of the samples
// (samples/mismatch.npz fails at output[2, 1, 3] by 1e-3; bidir_2layer.npz passes). Output is
// parsed back with real parsers (fast-xml-parser, jsdom) rather than matched as strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { JSDOM } from 'jsdom';
import { loadArrays } from '../../src/io/load.js';
import { caseError } from '../../src/check.js';
import type { CaseResult, DiagnosisEntry } from '../../src/result.js';
import { buildCase } from '../../src/model/case.js';
import { diagnoseCase } from '../../src/diagnose/diagnose.js';
import { GruCheckError } from '../../src/errors.js';
import { summarize } from '../../src/summary.js';
import { BLOCKS, downsampleMax, sparkline, sparklineLine } from '../../src/report/sparkline.js';
import { caseStem, renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { renderTable } from '../../src/report/table.js';
import { sample, checkRef } from '../helpers.js';

/** Fresh results each call: tests mutate them (paths, diagnosis) without affecting each other. */
async function real(): Promise<{ mismatch: CaseResult; bidir: CaseResult }> {
  return {
    mismatch: await checkRef(await loadArrays(sample('mismatch.npz'))),
    bidir: await checkRef(await loadArrays(sample('bidir_2layer.npz'))),
  };
}

const DIAGNOSIS: DiagnosisEntry[] = [
  { variant: 'reset-before-matmul', matches: true, verdict: 'matches', maxAbsError: 2.4e-7, fix: 'apply r after W_hn h + b_hn (PyTorch), not to h before it' },
  { variant: 'gate-order:zrn', matches: false, verdict: 'no', maxAbsError: 0.31, fix: 'stack gate blocks r|z|n, not z|r|n' },
];

const WEIRD = `dir/<&"'>weird.npz`;
const XSS = '<img src=x onerror=alert(1)>.npz';

// ---------------------------------------------------------------------------------------------
// sparkline

test('sparkline: a single bad step stays visible after downsampling by max', () => {
  const v = new Array<number>(1000).fill(1e-7);
  v[537] = 1e-2;
  const s = sparkline(v, 40);
  assert.equal([...s].length, 40);
  assert.equal([...s].filter((c) => c === '█').length, 1);
  assert.equal([...s].indexOf('█'), Math.floor((537 * 40) / 1000));
  assert.match(s, /^▁+█▁+$/);
  // Buckets cover every value exactly once.
  assert.deepEqual(downsampleMax([1, 5, 2, 3, 9, 4, 0], 3), [5, 3, 9]);
});

test('sparkline: zeros draw lowest, an all-zero series is all ▁, a flat non-zero one mid-height', () => {
  assert.equal(sparkline([0, 0, 0]), '▁▁▁');
  assert.equal(sparkline([0, 1e-3, 0]), '▁█▁');
  assert.equal(sparkline([0, 1e-3, 1e-3, 0]), '▁██▁');
  assert.equal(sparkline([5e-6, 5e-6, 5e-6]), '▄▄▄');
  assert.equal(sparkline([]), '');
  assert.equal(sparkline([1e-7, NaN, 1e-7]), '▄█▄', 'NaN is the worst error; the flat rest stays mid-height');
  assert.equal(sparkline([1e-7, NaN, 1e-3]), '▁██');
});

test('sparkline: log10 scale; a monotone series climbs; the floor caps the range at 6 decades', () => {
  // 7 values over 6 decades: heights round(7*i/6).
  assert.equal(sparkline([1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]), '▁▂▃▅▆▇█');
  // A value 7 decades below the max is clamped to the floor (max * 1e-6) instead of stretching.
  const s = [...sparkline([1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1])];
  assert.equal(s[0], '▁');
  assert.equal(s.at(-1), '█');
  const h = s.map((c) => BLOCKS.indexOf(c as (typeof BLOCKS)[number]));
  for (let i = 1; i < h.length; i++) assert.ok(h[i]! >= h[i - 1]!, `non-decreasing at ${i}: ${s.join('')}`);
  // Shorter than the width: one character per step, no stretching.
  assert.equal([...sparkline([1, 2, 3], 40)].length, 3);
});

test('sparkline line: for the mismatch sample, and under the table', async () => {
  const { mismatch, bidir } = await real();
  const [out, hn] = mismatch.checks;
  assert.match(sparklineLine(out!)!, /^output \|err\| over time: [▁▂▃▄▅▆▇]{2}█[▁▂▃▄▅▆▇]  max 1\.00e-3 at step 2 of 4$/);
  assert.equal(sparklineLine(hn!), null, 'h_n has no time axis');
  const table = renderTable(summarize([mismatch, bidir]), { colorLevel: 0 });
  assert.equal(table.match(/ \|err\| over time: /g)?.length, 2);
  assert.match(table, /\n {2}output \|err\| over time: .*max 1\.00e-3 at step 2 of 4\n {2}output \|err\| by octave: [▁-█·]+┊·*▁ .*\n {2}tolerance: /);
});

// ---------------------------------------------------------------------------------------------
// junit

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  htmlEntities: true, // decode &#10; and friends in attributes
  parseAttributeValue: false,
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
});

interface Xml { [k: string]: any }

test('junit: counts, names, the failure message, diagnosis in system-out; parses back', async () => {
  const { mismatch, bidir } = await real();
  mismatch.diagnosis = DIAGNOSIS;
  const bad = caseError(WEIRD, new GruCheckError('NOT_FOUND', 'no such file', { file: WEIRD }));
  const xml = renderJunit(summarize([mismatch, bidir, bad]));
  assert.equal(XMLValidator.validate(xml), true);
  const doc: Xml = xmlParser.parse(xml);
  const root = doc.testsuites;
  assert.equal(root.name, 'gru-check');
  assert.deepEqual([root.tests, root.failures, root.errors], ['5', '1', '1']);
  assert.match(root.time, /^\d+\.\d{3}$/);

  const suites: Xml[] = root.testsuite;
  assert.deepEqual(suites.map((x) => x.name), [mismatch.case, bidir.case, WEIRD], 'paths survive escaping');
  const [ms, bi, er] = suites as [Xml, Xml, Xml];
  assert.deepEqual([ms.tests, ms.failures, ms.errors], ['2', '1', '0']);
  assert.deepEqual(ms.testcase.map((t: Xml) => [t.classname, t.name]), [
    ['gru-check.mismatch', 'output (reference vs expected)'],
    ['gru-check.mismatch', 'h_n (reference vs expected)'],
  ]);
  for (const t of [...ms.testcase, ...bi.testcase]) assert.match(t.time, /^\d+\.\d{3}$/);
  const failure = ms.testcase[0].failure;
  assert.match(failure.message, /1\/48 mismatched/);
  assert.match(failure.message, /max abs error 1\.00e-3 at \[2, 1, 3\]/);
  assert.match(failure.message, /needs atol >= 1\.00e-3/);
  assert.match(failure.message, /rtol=1\.3e-6 atol=1e-5/);
  assert.match(failure.message, /first bad step 2/);
  assert.equal(ms.testcase[1].failure, undefined);
  assert.match(ms['system-out'], /reset-before-matmul/);
  assert.match(ms['system-out'], /stack gate blocks r\|z\|n/);
  assert.equal(bi['system-out'], undefined);
  assert.equal(bi.testcase.length, 2);
  assert.ok(bi.testcase.every((t: Xml) => t.failure === undefined));

  assert.deepEqual([er.tests, er.failures, er.errors], ['1', '0', '1']);
  assert.equal(er.testcase[0].classname, `gru-check.<&"'>weird`);
  assert.equal(er.testcase[0].error.type, 'NOT_FOUND');
  assert.equal(er.testcase[0].error.message, `${WEIRD}: no such file`);
});

test('junit: control characters are shown as escapes, characters invalid in XML 1.0 stripped, newlines in attributes kept', async () => {
  const { mismatch } = await real();
  mismatch.case = 'a\u0001b\uFFFE\uD800c\nd.npz';
  const xml = renderJunit(summarize([mismatch]));
  assert.doesNotMatch(xml, /[\u0001\uFFFE\uD800]/);
  // jsdom's XML parser is strict about the XML 1.0 character set (fast-xml-parser is not).
  const dom = new new JSDOM('').window.DOMParser().parseFromString(xml, 'application/xml');
  assert.equal(dom.getElementsByTagName('parsererror').length, 0);
  assert.equal(dom.getElementsByTagName('testsuite')[0]!.getAttribute('name'), 'a\\x01bc\nd.npz');
  assert.equal(caseStem('some/dir.v2/case.final.npz'), 'case_final');
  assert.equal(caseStem('cases/dir_case/'), 'dir_case');
  assert.equal(caseStem('C:\\dumps\\x.npz'), 'x');
});

// ---------------------------------------------------------------------------------------------
// markdown

const HEADER = '| tensor | subject vs against | shape | mismatched | max abs err [index] | abs err median / q0.99 | rel err median / q0.99 | rel L2 | cosine | atol needed | first bad step | result |';
/** Cell separators: pipes not escaped with a backslash. */
const seps = (line: string): number => (line.match(/(?<!\\)\|/g) ?? []).length;

test('markdown: ❌ heading with counts, one table per case, one row per check, diagnosis, sparkline', async () => {
  const { mismatch, bidir } = await real();
  mismatch.diagnosis = DIAGNOSIS;
  const md = renderMarkdown(summarize([mismatch, bidir]));
  const lines = md.split('\n');
  assert.equal(lines[0], '## ❌ gru-check: 1 passed, 1 failed');
  assert.equal(lines.filter((l) => l === HEADER).length, 2);
  const rows = lines.filter((l) => l.startsWith('| output |') || l.startsWith('| h_n |'));
  assert.equal(rows.length, 4);
  for (const l of lines.filter((x) => x.startsWith('|'))) assert.equal(seps(l), 13, `12 cells in: ${l}`);
  const failRow = rows[0]!;
  const sciRe = '(?:\\d\\.\\d\\de[+-]\\d+|0)';
  assert.match(failRow, new RegExp(`^\\| output \\| reference vs expected \\| \\(4, 3, 4\\) \\| 1/48 \\(2\\.08%\\) \\| 1\\.00e-3 \\[2, 1, 3\\] \\| ${sciRe} / ${sciRe} \\| ${sciRe} / ${sciRe} \\| ${sciRe} \\| 0\\.\\d+ \\| 1\\.00e-3 \\| 2 \\| ❌ FAIL \\|$`));
  // A failing check's |error| by octave: the planted 1e-3 sits alone past atol.
  assert.match(md, /^output \\\|err\\\| by octave: `[▁-█·]+┊·*▁` from .*; ┊ atol 1\.00e-5/m);
  assert.match(md, /^### ❌ \S*samples\/mismatch\.npz$/m);
  assert.match(md, /^### ✅ \S*samples\/bidir\\_2layer\.npz$/m);
  assert.match(md, /^`GRU\(input_size=3, hidden_size=4, num_layers=1, bidirectional=False, bias=True, batch_first=False \(from config\)\)`/m);
  assert.match(md, /^tolerance: rtol=1\.3e-6 atol=1e-5/m);
  assert.match(md, /^output \\\|err\\\| over time: `[▁-█]{4}` max 1\.00e-3 at step 2 of 4$/m);
  assert.match(md, /^1\. ✅ \*\*reset-before-matmul\*\* — apply r after W\\_hn h \+ b\\_hn/m);
  assert.match(md, /^2\. .*stack gate blocks r\\\|z\\\|n/m);
});

test('markdown: user text is escaped: pipes in cells, HTML, error cases counted', async () => {
  const { mismatch } = await real();
  mismatch.case = 'runs/a|b.npz';
  mismatch.checks[0]!.problem = 'shape mismatch: candidate | output is [1] <b>';
  const bad = caseError(XSS, new GruCheckError('NOT_FOUND', 'no such file', { file: XSS }));
  const md = renderMarkdown(summarize([mismatch, bad]));
  assert.equal(md.split('\n')[0], '## ❌ gru-check: 0 passed, 1 failed, 1 error');
  assert.match(md, /^### ❌ runs\/a\\\|b\.npz$/m);
  const row = md.split('\n').find((l) => l.startsWith('| output |'))!;
  assert.equal(seps(row), 13, row);
  assert.match(row, /candidate \\\| output is \\\[1\\\] &lt;b&gt;/);
  assert.doesNotMatch(md, /<img|<b>/);
  assert.match(md, /&lt;img src=x onerror=alert\(1\)&gt;\.npz: no such file/);
});

// ---------------------------------------------------------------------------------------------
// html

function dom(html: string): Document {
  // No runScripts, no resources: jsdom parses only, nothing is fetched.
  return new JSDOM(html).window.document;
}

interface Png {
  width: number;
  height: number;
  /** Palette indices, row-major. */
  index: Uint8Array;
  /** '#rrggbb' per palette entry. */
  palette: string[];
}

/**
 * A heatmap's picture, decoded the way a browser does: chunks (CRCs checked against zlib's),
 * IHDR, PLTE, the IDAT stream inflated, each scanline un-filtered (all five PNG filter types).
 */
function heatmapPng(svg: Element): Png {
  const href = svg.querySelector('image.cells')!.getAttribute('href')!;
  const m = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(href);
  assert.ok(m, 'a base64 PNG data URI');
  const b = Buffer.from(m[1]!, 'base64');
  assert.deepEqual([...b.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let width = 0;
  let height = 0;
  let palette: string[] = [];
  const idat: Buffer[] = [];
  const crc32 = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  for (let at = 8; at < b.length; ) {
    const len = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    const data = b.subarray(at + 8, at + 8 + len);
    if (crc32) assert.equal(b.readUInt32BE(at + 8 + len), crc32(b.subarray(at + 4, at + 8 + len)), `${type} CRC`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([...data.subarray(8)], [8, 3, 0, 0, 0], '8-bit palette, not interlaced');
    } else if (type === 'PLTE') {
      palette = Array.from({ length: len / 3 }, (_, i) => `#${[...data.subarray(3 * i, 3 * i + 3)].map((x) => x.toString(16).padStart(2, '0')).join('')}`);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (width + 1));
  const index = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (width + 1)]!;
    for (let x = 0; x < width; x++) {
      const a = x > 0 ? index[y * width + x - 1]! : 0;
      const up = y > 0 ? index[(y - 1) * width + x]! : 0;
      const c = x > 0 && y > 0 ? index[(y - 1) * width + x - 1]! : 0;
      const p = a + up - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - up) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - up) <= Math.abs(p - c) ? up : c;
      const pred = [0, a, up, (a + up) >> 1, paeth][f]!;
      index[y * width + x] = (raw[y * (width + 1) + 1 + x]! + pred) & 0xff;
    }
  }
  return { width, height, index, palette };
}

/** The hottest pixel: the highest palette index (the ramp runs pale to dark red), first in row order. */
function hottest(p: Png): { row: number; col: number; colour: string } {
  let at = 0;
  for (let i = 1; i < p.index.length; i++) if (p.index[i]! > p.index[at]!) at = i;
  return { row: Math.floor(at / p.width), col: at % p.width, colour: p.palette[p.index[at]!]! };
}

test('html: one line plot per check with steps, one heatmap per check with a map, pixels = map dims', async () => {
  const { mismatch, bidir } = await real();
  const s = summarize([mismatch, bidir]);
  const d = dom(renderHtml(s));
  const checks = s.cases.flatMap((c) => c.checks);
  const plots = d.querySelectorAll('svg.plot');
  const maps = [...d.querySelectorAll('svg.heatmap')];
  assert.equal(plots.length, checks.filter((k) => k.stepMaxAbs).length);
  assert.equal(plots.length, 2);
  assert.equal(maps.length, checks.filter((k) => k.errorMap).length);
  assert.equal(maps.length, 4);
  const withMaps = checks.filter((k) => k.errorMap);
  maps.forEach((svg, i) => {
    const em = withMaps[i]!.errorMap!;
    assert.equal(svg.getAttribute('data-rows'), String(em.rows));
    assert.equal(svg.getAttribute('data-cols'), String(em.cols));
    assert.equal(svg.querySelectorAll('rect.cell').length, 0, 'one image, not a rect per cell');
    const png = heatmapPng(svg);
    assert.deepEqual([png.width, png.height], [em.cols, em.rows], 'one pixel per cell');
    const img = svg.querySelector('image.cells')!;
    assert.match(img.getAttribute('style')!, /image-rendering: pixelated/);
    assert.equal(img.getAttribute('preserveAspectRatio'), 'none');
    assert.ok(svg.querySelector('linearGradient'), 'colour bar');
    const labels = [...svg.querySelectorAll('text.label')].map((t) => t.textContent);
    assert.deepEqual(labels, [em.colLabel, em.rowLabel]);
  });
  // Line plots: labelled axes, decade ticks, a dashed atol line.
  for (const p of plots) {
    const labels = [...p.querySelectorAll('text.label')].map((t) => t.textContent);
    assert.deepEqual(labels, ['time step', 'max |error| (log)']);
    assert.ok([...p.querySelectorAll('text.tick')].some((t) => /^1e-\d+$/.test(t.textContent ?? '')));
    assert.ok(p.querySelector('line.atol'));
    assert.match(p.querySelector('text.atol-label')!.textContent!, /atol 1\.00e-5/);
  }
  // The mismatch's failing plot marks the first bad step.
  assert.match(plots[0]!.querySelector('text.bad-label')!.textContent!, /first bad step 2/);
  assert.equal(plots[1]!.querySelector('.bad'), null);
});

test('html: the hottest heatmap pixel of the mismatch is time step 2, feature 3, in the darkest colour', async () => {
  const { mismatch } = await real();
  const d = dom(renderHtml(summarize([mismatch])));
  const svg = d.querySelector('#case-0 svg.heatmap[data-tensor="output"]')!;
  const png = heatmapPng(svg);
  assert.deepEqual([png.width, png.height], [4, 4], 'features x time steps');
  const hot = hottest(png);
  assert.deepEqual([hot.row, hot.col], [2, 3]);
  assert.equal(hot.colour, '#800026', 'the darkest colour of the ramp');
  assert.equal(png.index.filter((i) => i === 255).length, 1, 'alone at the top of the scale');
  // The same cell named in the markup, with its value.
  assert.equal(svg.getAttribute('data-max-row'), '2');
  assert.equal(svg.getAttribute('data-max-col'), '3');
  assert.ok(Math.abs(Number(svg.getAttribute('data-max')) - 1e-3) < 1e-6);
  assert.match(svg.querySelector('image.cells title')!.textContent!, /^max \|error\| 1\.00e-3 at time step 2, feature 3$/);
});

test('html: self-contained, pass/fail visible, diagnosis listed, user text escaped', async () => {
  const { mismatch, bidir } = await real();
  mismatch.diagnosis = DIAGNOSIS;
  bidir.case = `runs/${XSS}`;
  const bad = caseError(XSS, new GruCheckError('NOT_FOUND', `no such file <script>alert(2)</script>`, { file: XSS }));
  const html = renderHtml(summarize([mismatch, bidir, bad]));
  const d = dom(html);
  assert.equal(d.querySelectorAll('img').length, 0, 'no element injected from a case path');
  assert.equal(d.querySelectorAll('script').length, 0);
  assert.ok(d.body.textContent!.includes(`runs/${XSS}`), 'the path is shown as text');
  assert.ok(d.body.textContent!.includes('no such file <script>alert(2)</script>'));
  for (const el of d.querySelectorAll('*')) {
    for (const a of el.getAttributeNames()) {
      if (/(^|:)(src|href)$/.test(a)) assert.doesNotMatch(el.getAttribute(a)!, /^\s*(https?:)?\/\//i, `${el.tagName} ${a}`);
    }
  }
  assert.doesNotMatch(html, /url\(\s*['"]?(https?:)?\/\//i, 'no external CSS resources');
  assert.doesNotMatch(html, /@import/);

  assert.match(d.querySelector('.banner')!.className, /\bfail\b/);
  assert.match(d.querySelector('.banner')!.textContent!, /FAIL — 1 passed, 1 failed, 1 error/);
  // Failing and erroring cases first, then the passing one; anchors keep the run's order.
  const sections = [...d.querySelectorAll('section.case')];
  assert.deepEqual(sections.map((x) => x.className), ['case fail', 'case error', 'case pass']);
  assert.deepEqual(sections.map((x) => x.id), ['case-0', 'case-2', 'case-1']);
  assert.deepEqual([...d.querySelectorAll('.index a')].map((a) => a.getAttribute('href')), ['#case-0', '#case-2', '#case-1']);
  const [failing, erroring, passing] = sections as [Element, Element, Element];
  assert.equal(failing.querySelector('code')!.textContent, mismatch.case);
  assert.equal(erroring.querySelector('h2 code')!.textContent, XSS);
  assert.equal(erroring.querySelectorAll('svg').length, 0);
  assert.match(failing.querySelector('.config')!.textContent!, /^GRU\(input_size=3, hidden_size=4/);
  const verdicts = [...failing.querySelectorAll('table.checks td.verdict')].map((t) => t.textContent);
  assert.deepEqual(verdicts, ['FAIL', 'PASS']);
  assert.equal(failing.querySelector('table.checks th:last-child')!.textContent, 'result');
  // The failing case is open; its failing check's plots are open, its passing check's folded.
  assert.equal(failing.querySelector('details.case-body'), null);
  const figs = [...failing.querySelectorAll('figure.check-fig')];
  assert.deepEqual(figs.map((f) => [f.className, f.querySelector('details.plots')!.hasAttribute('open')]), [['check-fig fail', true], ['check-fig pass', false]]);
  // The passing case is one summary line, folded, plots and all.
  const body = passing.querySelector(':scope > details.case-body')!;
  assert.equal(body.hasAttribute('open'), false);
  assert.match(body.querySelector(':scope > summary')!.textContent!, /^PASS runs\/<img src=x onerror=alert\(1\)>\.npz 2 checks pass, max \|error\| \d\.\d\de-\d+$/);
  assert.ok(body.querySelector('svg.heatmap'), 'the plots are there when opened');
  assert.ok([...passing.querySelectorAll('details.plots')].every((x) => !x.hasAttribute('open')));
  // Diagnosis: the matching variant listed, the one that explains nothing folded away.
  const shown = [...failing.querySelectorAll('.diagnosis > ol > li')];
  assert.equal(shown.length, 1);
  assert.match(shown[0]!.textContent!, /^matches reset-before-matmul — apply r after W_hn h/);
  const tried = failing.querySelector('.diagnosis details.tried')!;
  assert.equal(tried.querySelector('summary')!.textContent, '1 other variant tried, none close');
  assert.match(tried.querySelector('li')!.textContent!, /^no match gate-order:zrn — stack gate blocks r\|z\|n/);
  assert.equal(passing.querySelector('.diagnosis'), null);
});

test('html: a diagnosed case shows where it fails and what diagnose tried', async () => {
  // diagnose on the mismatch sample: the expected output carries a planted 1e-3 no GRU mistake
  // explains, so `where` localises it and every variant tried is "no match".
  const d = await diagnoseCase(buildCase(await loadArrays(sample('mismatch.npz'))), { engine: 'reference' });
  d.case = 'samples/mismatch.npz';
  assert.ok(d.where && d.diagnosis && d.diagnosis.length > 0 && d.diagnosis.every((e) => e.verdict === 'no'));
  const doc = dom(renderHtml(summarize([d])));
  const block = doc.querySelector('section.case.fail .diagnosis')!;
  assert.equal(block.querySelector('.where')!.textContent, `where: ${d.where.summary}`);
  assert.match(block.querySelector('.where')!.textContent!, /output first fails from t=2/);
  assert.equal(block.querySelector('p.none')!.textContent, 'No known porting mistake reproduces the tensors under test.');
  assert.equal(block.querySelector('details.tried summary')!.textContent, `${d.diagnosis.length} other variants tried, none close`);
  assert.deepEqual([...block.querySelectorAll('details.tried li code')].map((c) => c.textContent), d.diagnosis.map((e) => e.variant));
});

test('html: large maps are bucketed by max to at most 200 x 200 and keep the hot spot', async () => {
  const { mismatch } = await real();
  // A real result with its maps enlarged: 450 time steps x 300 features, one hot element.
  const k = mismatch.checks[0]!;
  const rows = 450;
  const cols = 300;
  const values = new Array<number>(rows * cols).fill(1e-8);
  values[321 * cols + 77] = 5e-2;
  k.errorMap = { ...k.errorMap!, rows, cols, values };
  const steps = new Array<number>(5000).fill(1e-7);
  steps[4321] = 5e-2;
  k.stepMaxAbs = steps;
  k.firstMismatchStep = 4321;
  const s = summarize([mismatch]);
  // The default cap: 200 x 200 pixels; the hot pixel is in the bucket that holds (321, 77): the
  // bucket b of n source rows in R covers [floor(b*n/R), floor((b+1)*n/R)).
  const inBucket = (b: number, n: number, R: number, i: number): boolean => Math.floor((b * n) / R) <= i && i < Math.floor(((b + 1) * n) / R);
  const full = renderHtml(s);
  assert.ok(full.length < 200_000, `a 450 x 300 map and 5000 steps in ${full.length} bytes`);
  const big = dom(full).querySelector('svg.heatmap[data-tensor="output"]')!;
  assert.deepEqual(['data-rows', 'data-cols', 'data-src-rows', 'data-src-cols'].map((a) => big.getAttribute(a)), ['200', '200', '450', '300']);
  const bigPng = heatmapPng(big);
  assert.deepEqual([bigPng.width, bigPng.height], [200, 200]);
  const bigHot = hottest(bigPng);
  assert.ok(inBucket(bigHot.row, 450, 200, 321) && inBucket(bigHot.col, 300, 200, 77), `hot pixel ${bigHot.row}, ${bigHot.col}`);
  assert.equal(bigPng.index.filter((i) => i === 255).length, 1);
  assert.equal(bigHot.colour, '#800026');
  // Smaller: 30 x 30.
  const d = dom(renderHtml(s, { maxCells: 30 }));
  const svg = d.querySelector('svg.heatmap[data-tensor="output"]')!;
  assert.equal(svg.getAttribute('data-rows'), '30');
  assert.equal(svg.getAttribute('data-cols'), '30');
  assert.equal(svg.getAttribute('data-src-rows'), '450');
  const png = heatmapPng(svg);
  assert.deepEqual([png.width, png.height], [30, 30]);
  const hot = hottest(png);
  assert.equal(png.index.filter((i) => i === 255).length, 1);
  assert.ok(inBucket(hot.row, 450, 30, 321) && inBucket(hot.col, 300, 30, 77), `hot pixel ${hot.row}, ${hot.col}`);
  // The markup names the bucket's first source indices and the value bucketing kept.
  assert.equal(Number(svg.getAttribute('data-max-row')), Math.floor((hot.row * 450) / 30));
  assert.equal(Number(svg.getAttribute('data-max-col')), Math.floor((hot.col * 300) / 30));
  assert.equal(Number(svg.getAttribute('data-max')), 5e-2);
  assert.match(svg.textContent!, /\(bucketed, max\)/);
  // The line plot keeps at most 1000 points and still reaches the spike.
  const plot = d.querySelector('svg.plot')!;
  const pts = plot.querySelector('polyline')!.getAttribute('points')!.split(' ');
  assert.ok(pts.length <= 1000);
  const minY = Math.min(...pts.map((p) => Number(p.split(',')[1])));
  const badY = Number(plot.querySelector('circle.bad')!.getAttribute('cy'));
  assert.equal(minY, badY, 'the highest point of the line is the spike');
});
