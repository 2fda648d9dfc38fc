/**
 * HTML report benchmark (part of `npm run bench`): how big the `--format html` report is and how
 * long it takes to open in headless Chromium (bench/chromium.ts: DevTools protocol on a pipe, a
 * 1280 x 900 viewport). Opening = from Page.navigate until two animation frames after the load
 * event (parsed, laid out, painted); each report is opened in a fresh tab, repeatedly.
 *
 *   - the 6 small samples of a CI suite (samples/suite.json plus the failing samples/mismatch.npz);
 *   - 200 cases: one in five failing (its plots open), the rest passing (folded); the failing ones
 *     alternate the mismatch sample and, when `npm run bench` made them with PyTorch, the
 *     deep-bidir workload (B 8, T 100, H 256, 2 layers, bidirectional) against its two broken ports,
 *     whose output maps are 100 x 512 (bucketed to 100 x 200).
 *
 *   node --import tsx bench/report.ts [CASES_DIR]    prints the table (CASES_DIR: bench/make_cases.py's)
 *
 * The checks run on the fast engine; the caller closes it (closeFastEngine) when done.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCase } from '../src/check.js';
import { readCandidate } from '../src/candidate/read.js';
import type { CaseResult } from '../src/result.js';
import { closeFastEngine } from '../src/engine/fast.js';
import { loadArrays } from '../src/io/load.js';
import { renderHtml } from '../src/report/html.js';
import { summarize } from '../src/summary.js';
import { Chromium, CHROMIUM, type LoadTiming } from './chromium.js';

const ROOT = join(import.meta.dirname, '..');
const SAMPLES = join(ROOT, 'samples');
const OPENS = 5;
const DETAILS = { stepErrors: true, errorMaps: true, histograms: true } as const;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const f0 = (x: number): string => x.toFixed(0);

async function sampleResult(name: string): Promise<CaseResult> {
  return checkCase(join(SAMPLES, name), DETAILS);
}

/** The same result under another name: rendering cost is per case, not per distinct case. */
const renamed = (r: CaseResult, i: number): CaseResult => ({ ...r, case: `cases/${String(i).padStart(3, '0')}-${r.case.split('/').pop()}` });

async function reports(casesDir: string | undefined): Promise<{ label: string; cases: CaseResult[] }[]> {
  const suite = ['bidir_2layer.npz', 'lengths.npz', 'onnx_lbr1.npz', 'keras_reset_after.npz', 'float64.npz'];
  const small = [await sampleResult('mismatch.npz'), ...(await Promise.all(suite.map(sampleResult)))];
  const passing = await Promise.all(
    readdirSync(SAMPLES)
      .filter((f) => f.endsWith('.npz') && f !== 'mismatch.npz')
      .sort()
      .map(sampleResult),
  );
  const failing = [small[0]!];
  let big = '';
  const db = casesDir ? join(casesDir, 'deep-bidir.npz') : '';
  if (db && existsSync(db)) {
    for (const port of ['deep-bidir-h0-ignored.npz', 'deep-bidir-unnamed.npz']) {
      failing.push(await checkCase(db, { ...DETAILS, candidate: readCandidate(await loadArrays(join(casesDir!, port))) }));
    }
    big = `; the failing ones alternate samples/mismatch.npz and deep-bidir against its 2 broken ports`;
  } else {
    big = '; the failing ones are samples/mismatch.npz (no PyTorch-made deep-bidir cases here)';
  }
  const many = Array.from({ length: 200 }, (_, i) => renamed(i % 5 === 0 ? failing[(i / 5) % failing.length]! : passing[i % passing.length]!, i));
  return [
    { label: '6 small samples: samples/suite.json\'s 5 + samples/mismatch.npz (1 failing)', cases: small },
    { label: `200 cases, 40 failing (plots open), 160 passing (folded) from the ${passing.length} passing samples${big}`, cases: many },
  ];
}

export async function reportBench(casesDir?: string): Promise<string[]> {
  const rows = ['| report | HTML size | opened in Chromium, ms: median of ' + OPENS + ' [range] | load event at, ms (median) |', '|---|---|---|---|'];
  const dir = mkdtempSync(join(tmpdir(), 'gru-check-report-'));
  const browser = CHROMIUM ? Chromium.launch() : null;
  try {
    for (const { label, cases } of await reports(casesDir)) {
      const file = join(dir, 'report.html');
      writeFileSync(file, renderHtml(summarize(cases)));
      const size = statSync(file).size;
      const sizeText = size >= 1e6 ? `${(size / 1e6).toFixed(2)} MB` : `${f0(size / 1e3)} kB`;
      if (!browser) {
        rows.push(`| ${label} | ${sizeText} | not measured: no Chromium (apt-get install chromium) | |`);
        continue;
      }
      const times: LoadTiming[] = [];
      for (let i = 0; i < OPENS + 1; i++) {
        const page = await browser.page(1280, 900);
        const t = await page.open(`file://${file}`);
        await page.close();
        if (i > 0) times.push(t); // the first open warms the browser up
      }
      const ready = times.map((t) => t.readyMs);
      rows.push(`| ${label} | ${sizeText} | ${f0(median(ready))} [${f0(Math.min(...ready))}–${f0(Math.max(...ready))}] | ${f0(median(times.map((t) => t.nav.loadEventEnd)))} |`);
    }
  } finally {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  rows.push('', `- Opened: from Page.navigate to two animation frames after the load event, in a fresh tab at 1280 x 900 (one open first to warm the browser up, not counted); the target is under 2 s for 200 cases.`);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${(await reportBench(process.argv[2])).join('\n')}\n`);
  await closeFastEngine();
}
