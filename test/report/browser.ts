// The HTML report in a real headless browser, when one is installed (Debian: apt-get install
// chromium). jsdom (report/renderers.ts) checks the structure everywhere; this checks that a real
// engine renders it: the DOM after load still has the plots, and a screenshot is produced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tmp } from '../helpers.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

test('the HTML report renders in headless Chromium', { skip: CHROMIUM ? false : 'no Chromium on this machine (apt-get install chromium)' }, async () => {
  const dir = tmp();
  const html = join(dir, 'report.html');
  assert.equal((await cli(['run', 'samples/mismatch.npz', 'samples/lengths.npz', '--report', html])).code, 1);
  // One launch does both: the DOM after load on stdout and a screenshot. Its profile goes in a
  // tmp() folder, removed at exit (Chromium leaves tens of files there). The 60 s timeout only turns
  // a hung browser into a failure; a launch takes about a second.
  const png = join(dir, 'report.png');
  const dom = spawnSync(CHROMIUM!, [...FLAGS, `--user-data-dir=${tmp('gru-check-chromium-')}`, '--dump-dom', `--screenshot=${png}`, '--window-size=1280,1600', `file://${html}`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(dom.status, 0, dom.stderr);
  assert.match(dom.stdout, /<svg[^>]*class="plot"/);
  assert.equal((dom.stdout.match(/<svg[^>]*class="heatmap"/g) ?? []).length, 4, 'one heatmap per checked tensor');
  assert.match(dom.stdout, /samples\/mismatch\.npz/);
  const bytes = readFileSync(png);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  assert.ok(bytes.length > 20_000, `a real picture, not a blank page (${bytes.length} bytes)`);
});
