/**
 * --format junit: JUnit XML in the common "Ant/Surefire" schema that GitLab's test reports, Jenkins'
 * junit step and the GitHub test-reporter actions all read:
 *
 *   <testsuites name="gru-check" tests failures errors time>
 *     <testsuite name="<case path>" tests failures errors skipped time timestamp?>
 *       <properties><property name="config" value="GRU(...)"/>...</properties>
 *       <testcase classname="gru-check.<case file stem>" name="<tensor> (<subject> vs <against>)" time>
 *         <failure message="<one-line summary>" type="mismatch">details</failure>
 *         <system-out>the check's error statistics (every check, passing or not)</system-out>
 *       </testcase>
 *       <system-out>diagnosis, when present</system-out>
 *     </testsuite>
 *   </testsuites>
 *
 * A mismatch is a <failure> (the test ran and the values disagree); a case that could not be read
 * is a single <error> testcase (the test could not run) — the same split as exit codes 1 and 2.
 * Pure: no clock is read, so the output is reproducible (no timestamp attribute).
 */
import type { CaseResult } from '../result.js';
import type { CheckResult } from '../result.js';
import type { RunSummary } from '../result.js';
import { fmtIndex, shapeInParens, sci } from './format.js';
import { baselineTexts, configText, criterionText, detailsText, diagnosisVerdict, mismatchText, paddedText, presetSources, presetText, statsText, toleranceText, warningTexts } from './describe.js';
import { escapeControlsKeepLines } from '../io/text.js';
import { tensorName } from './sparkline.js';

/**
 * XML 1.0 allows only #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF];
 * anything else makes the whole file unparseable for every CI. Control characters are first shown
 * as escapes (\x1b: a CI log that prints the report must not run them), then what is still invalid
 * (lone surrogates, U+FFFE/FFFF) is dropped: no escape exists for it. The `u` flag makes a lone
 * surrogate one code point in the excluded D800-DFFF range.
 */
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Element text. `>` is escaped too, so `]]>` can never appear. */
export function xmlText(s: string): string {
  return escapeControlsKeepLines(s).replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute value (always written in double quotes). Tabs/newlines become character references
 * because a parser normalises literal ones in attributes to spaces. */
export function xmlAttr(s: string): string {
  return xmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

const attrs = (a: Record<string, string | number>): string =>
  Object.entries(a).map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`).join('');

/** Seconds with millisecond precision: what the schema's `time` means, and more digits are noise. */
const seconds = (ms: number): string => (Math.round(ms) / 1000).toFixed(3);

/**
 * `samples/mismatch.npz` -> `mismatch`; a directory case `cases/dir_case/` -> `dir_case`. Dots
 * become `_` because Jenkins and GitLab read dots in classname as package separators.
 */
export function caseStem(path: string): string {
  const base = path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? path;
  const stem = base.replace(/\.(npz|npy)$/i, '');
  return (stem || 'case').replace(/\./g, '_');
}

const testName = (k: CheckResult): string => `${tensorName(k)} (${k.subject} vs ${k.against})`;

/** The failure body: the one-line summary plus the metrics a reader wants next. */
function failureBody(k: CheckResult): string {
  if (k.problem) return k.problem;
  const lines = [
    mismatchText(k),
    `shape ${shapeInParens(k.shape)}`,
    `max rel error ${sci(k.maxRelError)} ${fmtIndex(k.maxRelIndex)}`.trimEnd(),
    `mean abs error ${sci(k.meanAbsError)}`,
    statsText(k),
  ];
  const crit = criterionText(k);
  if (crit) lines.push(`criterion: ${crit}`);
  if (k.zeroExpected > 0) lines.push(`${k.zeroExpected} element(s) with expected 0 left out of max rel error`);
  return lines.join('\n');
}

function suite(c: CaseResult): { xml: string; tests: number; failures: number; errors: number; ms: number } {
  const classname = `gru-check.${caseStem(c.case)}`;
  const t = c.timings;
  const ms = t.loadMs + t.referenceMs + t.compareMs;
  const out: string[] = [];
  if (c.error !== undefined) {
    // One testcase standing for "read and check this case", so the error shows up per case in CI.
    out.push(
      `    <testcase${attrs({ classname, name: 'load case', time: seconds(ms) })}>`,
      `      <error${attrs({ message: c.error, type: c.errorCode ?? 'ERROR' })}>${xmlText(c.error)}</error>`,
      '    </testcase>',
    );
    return { xml: wrap(c, out, 1, 0, 1, ms), tests: 1, failures: 0, errors: 1, ms };
  }
  // No per-check clock exists: the case's time is split evenly over its checks so the testcase
  // times add up to the suite's, which is what GitLab/Jenkins sum and display.
  const each = c.checks.length > 0 ? ms / c.checks.length : 0;
  let failures = 0;
  for (const k of c.checks) {
    const head = `    <testcase${attrs({ classname, name: testName(k), time: seconds(each) })}`;
    // Every check's statistics, so a CI page shows how close a passing port came too.
    const stats = k.problem ? '' : `      <system-out>${xmlText([statsText(k), criterionText(k)].filter(Boolean).join('\n'))}</system-out>`;
    if (k.pass) {
      out.push(...(stats ? [`${head}>`, stats, '    </testcase>'] : [`${head}/>`]));
      continue;
    }
    failures++;
    out.push(
      `${head}>`,
      `      <failure${attrs({ message: mismatchText(k), type: k.problem ? 'shape mismatch' : 'mismatch' })}>${xmlText(failureBody(k))}</failure>`,
      ...(stats ? [stats] : []),
      '    </testcase>',
    );
  }
  let tests = c.checks.length;
  if (c.baselineCase?.status === 'missing') {
    // The checks may all pass, yet the case fails: a testcase of its own says why.
    tests++;
    failures++;
    const reason = c.baselineCase.reason ?? 'no baseline entry';
    out.push(
      `    <testcase${attrs({ classname, name: 'baseline entry', time: seconds(0) })}>`,
      `      <failure${attrs({ message: reason, type: 'baseline' })}>${xmlText(reason)}</failure>`,
      '    </testcase>',
    );
  }
  return { xml: wrap(c, out, tests, failures, 0, ms), tests, failures, errors: 0, ms };
}

function wrap(c: CaseResult, body: string[], tests: number, failures: number, errors: number, ms: number): string {
  const head = `  <testsuite${attrs({ name: c.case, tests, failures, errors, skipped: 0, time: seconds(ms) })}>`;
  const props: string[] = [];
  if (c.config) {
    // Properties carry the context a CI page shows next to the suite: what was checked, how strictly.
    props.push('    <properties>');
    const preset = presetText(c);
    const entries: [string, string][] = [['config', configText(c)], ['details', detailsText(c)], ['tolerance', toleranceText(c)]];
    if (preset) entries.push(['preset', [preset, ...presetSources(c)].join('\n')]);
    for (const [name, value] of entries) props.push(`      <property${attrs({ name, value })}/>`);
    props.push('    </properties>');
  }
  const sysout: string[] = [];
  const padded = paddedText(c);
  const notes = [...warningTexts(c).map((w) => `warning: ${w}`), ...(padded ? [`padded steps: ${padded}`] : []), ...baselineTexts(c).map((b) => `baseline: ${b}`)];
  if (notes.length > 0) sysout.push(`    <system-err>${xmlText(notes.join('\n'))}</system-err>`);
  if (c.diagnosis && c.diagnosis.length > 0) {
    const lines = ['diagnosis (porting mistakes re-enacted, best first):'];
    for (const d of c.diagnosis) lines.push(`  ${d.matches ? '*' : '-'} ${d.variant}: ${diagnosisVerdict(d)} -> ${d.fix}`);
    sysout.push(`    <system-out>${xmlText(lines.join('\n'))}</system-out>`);
  }
  return [head, ...props, ...body, ...sysout, '  </testsuite>'].join('\n');
}

export function renderJunit(s: RunSummary): string {
  const suites = s.cases.map(suite);
  const sum = (f: (x: (typeof suites)[number]) => number): number => suites.reduce((a, x) => a + f(x), 0);
  const head = `<testsuites${attrs({
    name: 'gru-check',
    tests: sum((x) => x.tests),
    failures: sum((x) => x.failures),
    errors: sum((x) => x.errors),
    time: seconds(sum((x) => x.ms)),
  })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites.map((x) => x.xml), '</testsuites>', ''].join('\n');
}
