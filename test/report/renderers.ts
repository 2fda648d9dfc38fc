// The sparkline, JUnit, markdown and HTML renderers, fed with results of real runs of the samples
// (samples/mismatch.npz fails at output[2, 1, 3] by 1e-3; bidir_2layer.npz passes). Output is
// parsed back with real parsers (fast-xml-parser, jsdom) rather than matched as strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { JSDOM } from 'jsdom';
import { loadArrays } from '../../src/io/load.js';
import { caseError, type CaseResult, type DiagnosisEntry } from '../../src/check.js';
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

test('html: one line plot per check with steps, one heatmap per check with a map, cells = map dims', async () => {
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
    assert.equal(svg.querySelectorAll('rect.cell').length, em.rows * em.cols);
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

test('html: the hottest heatmap cell of the mismatch is time step 2, feature 3', async () => {
  const { mismatch } = await real();
  const d = dom(renderHtml(summarize([mismatch])));
  const svg = d.querySelector('#case-0 svg.heatmap[data-tensor="output"]')!;
  const cells = [...svg.querySelectorAll('rect.cell')];
  const hottest = cells.reduce((a, b) => (Number(b.getAttribute('data-value')) > Number(a.getAttribute('data-value')) ? b : a));
  assert.equal(hottest.getAttribute('data-row'), '2');
  assert.equal(hottest.getAttribute('data-col'), '3');
  assert.ok(Math.abs(Number(hottest.getAttribute('data-value')) - 1e-3) < 1e-6);
  // ...and it is drawn in the darkest colour of the ramp.
  assert.equal(hottest.getAttribute('fill'), '#800026');
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
  const sections = [...d.querySelectorAll('section.case')];
  assert.deepEqual(sections.map((x) => x.className), ['case fail', 'case pass', 'case error']);
  assert.equal(sections[0]!.querySelector('code')!.textContent, mismatch.case);
  assert.equal(sections[2]!.querySelector('h2 code')!.textContent, XSS);
  assert.equal(sections[2]!.querySelectorAll('svg').length, 0);
  assert.match(sections[0]!.querySelector('.config')!.textContent!, /^GRU\(input_size=3, hidden_size=4/);
  const verdicts = [...sections[0]!.querySelectorAll('table.checks td.verdict')].map((t) => t.textContent);
  assert.deepEqual(verdicts, ['FAIL', 'PASS']);
  const items = [...sections[0]!.querySelectorAll('.diagnosis li')];
  assert.equal(items.length, 2);
  assert.match(items[0]!.textContent!, /matches reset-before-matmul — apply r after W_hn h/);
  assert.equal(sections[1]!.querySelector('.diagnosis'), null);
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
  // Default cap: counted on the string (jsdom takes seconds over 40,000 rects).
  const full = renderHtml(s);
  assert.match(full, /<svg class="heatmap" data-tensor="output" data-rows="200" data-cols="200" data-src-rows="450" data-src-cols="300"/);
  assert.equal(full.match(/<rect class="cell"/g)!.length, 200 * 200 + 4, '200 x 200 output cells + the 1 x 4 h_n map');
  // The same bucketing, smaller, through the DOM: R x C buckets, hot spot in the right one.
  const d = dom(renderHtml(s, { maxCells: 30 }));
  const svg = d.querySelector('svg.heatmap[data-tensor="output"]')!;
  assert.equal(svg.getAttribute('data-rows'), '30');
  assert.equal(svg.getAttribute('data-cols'), '30');
  assert.equal(svg.getAttribute('data-src-rows'), '450');
  const cells = [...svg.querySelectorAll('rect.cell')];
  assert.equal(cells.length, 30 * 30);
  const hot = cells.filter((c) => Number(c.getAttribute('data-value')) === 5e-2);
  assert.equal(hot.length, 1);
  // The bucket that holds row 321 starts at floor(b*450/30) <= 321 < the next start.
  const r0 = Number(hot[0]!.getAttribute('data-row'));
  const c0 = Number(hot[0]!.getAttribute('data-col'));
  assert.ok(r0 <= 321 && 321 - r0 < 450 / 30, `row bucket ${r0}`);
  assert.ok(c0 <= 77 && 77 - c0 < 300 / 30, `col bucket ${c0}`);
  assert.match(svg.textContent!, /\(bucketed, max\)/);
  // The line plot keeps at most 1000 points and still reaches the spike.
  const plot = d.querySelector('svg.plot')!;
  const pts = plot.querySelector('polyline')!.getAttribute('points')!.split(' ');
  assert.ok(pts.length <= 1000);
  const minY = Math.min(...pts.map((p) => Number(p.split(',')[1])));
  const badY = Number(plot.querySelector('circle.bad')!.getAttribute('cy'));
  assert.equal(minY, badY, 'the highest point of the line is the spike');
});
