// Nothing a file contains is obeyed by the terminal or a report: a weight prefix, a config key and
// a path carrying ESC sequences ("clear the screen, print a green ALL PASS"), BEL, CR, table pipes,
// backticks and <script> come out escaped in every output — the table, inspect, stderr warnings
// and errors, markdown, JUnit XML, HTML and JSON — by each output's one escaper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { XMLParser } from 'fast-xml-parser';
import { cli, members, npyString, sample, tmp, writeNpz } from '../helpers.js';

const EVIL = '\u001b[2J\u001b[32m ALL PASS\u0007\r|`<script>alert(1)</script>`';
/** Raw control characters an output must never contain (tab and newline are layout). */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function hostileCase(): string {
  const dir = tmp();
  const m = members(sample('classic_batch_first.npz'));
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k.startsWith('weight_') || k.startsWith('bias_')) out[`${EVIL}.${k}`] = v;
    else if (k === 'config') out[k] = npyString(JSON.stringify({ batch_first: true, [`key${EVIL}`]: 1 }));
    else out[k] = v;
  }
  return writeNpz(join(dir, 'case.npz'), out);
}

test('a hostile weight prefix and config key: escaped in the table, stderr and every report', async () => {
  const file = hostileCase();
  const dir = tmp();
  const reports = { md: join(dir, 'r.md'), xml: join(dir, 'r.xml'), html: join(dir, 'r.html'), json: join(dir, 'r.json') };
  for (const [ext, path] of Object.entries(reports)) {
    const r = await cli(['run', file, '--report', path]);
    assert.equal(r.code, 0, `${ext}: ${r.stderr}`);
    // the table on stdout and the warning on stderr: escapes, never the raw bytes
    assert.doesNotMatch(r.stdout, RAW, 'table');
    assert.doesNotMatch(r.stderr, RAW, 'stderr');
    assert.match(r.stdout, /prefix \\x1b\[2J\\x1b\[32m ALL PASS\\x07\\r\|`<script>/);
    assert.match(r.stderr, /^gru-check: warning: .*config key "key\\x1b\[2J\\x1b\[32m ALL PASS\\x07\\r/m);
  }
  const md = readFileSync(reports.md, 'utf8');
  assert.doesNotMatch(md, RAW);
  assert.doesNotMatch(md, /<script>/);
  assert.match(md, /prefix \\\\x1b\\\[2J\\\\x1b\\\[32m ALL PASS\\\\x07\\\\r\\\|\\`&lt;script&gt;/);
  const xml = readFileSync(reports.xml, 'utf8');
  assert.doesNotMatch(xml, RAW);
  const doc = new XMLParser({ ignoreAttributes: false }).parse(xml) as { testsuites: { testsuite: { properties: { property: { '@_name': string; '@_value': string }[] }; 'system-err': string } } };
  const details = doc.testsuites.testsuite.properties.property.find((p) => p['@_name'] === 'details')!['@_value'];
  assert.ok(details.includes('\\x1b[2J\\x1b[32m ALL PASS\\x07\\r|`<script>alert(1)</script>`'), details);
  assert.match(doc.testsuites.testsuite['system-err'], /warning: config key "key\\x1b\[2J/);
  const html = readFileSync(reports.html, 'utf8');
  assert.doesNotMatch(html, RAW);
  const page = new JSDOM(html).window.document;
  assert.equal(page.querySelectorAll('script').length, 0, 'no <script> element');
  assert.ok(page.body.textContent!.includes('\\x1b[2J\\x1b[32m ALL PASS\\x07\\r|`<script>alert(1)</script>`'));
  const json = readFileSync(reports.json, 'utf8');
  assert.doesNotMatch(json, RAW, 'JSON escapes control characters itself');
  assert.equal(JSON.parse(json).cases[0].prefix, EVIL, 'JSON keeps the exact name');
});

test('inspect, markdown on stdout, errors and progress labels: the same escapes', async () => {
  const file = hostileCase();
  const ins = await cli(['inspect', file]);
  assert.equal(ins.code, 0, ins.stderr);
  assert.doesNotMatch(ins.stdout, RAW);
  assert.match(ins.stdout, /\\x1b\[2J\\x1b\[32m ALL PASS\\x07\\r\|`<script>alert\(1\)<\/script>`\.weight_ih_l0/);
  const md = await cli(['run', file, '--format', 'markdown']);
  assert.doesNotMatch(md.stdout, RAW);
  // an unreadable file whose name is hostile: one escaped line on stderr
  const dir = tmp();
  const bad = join(dir, `x${EVIL.replace(/\//g, '_')}.npz`);
  copyFileSync(sample('classic_batch_first.npz'), bad);
  const r = await cli(['run', bad, '--weights', join(dir, 'missing.npz')]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, RAW);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
