// Long runs stay interruptible (SIGINT -> exit 130, one line), a closed pipe ends quietly, and the
// progress bar draws only on a terminal after the delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { renderBar, Progress } from '../src/cli/progress.js';
import { BIN, ROOT, npy, tmp, writeNpz } from './helpers.js';

/** A GRU big enough to take seconds (I = H = 512, T = 4000, B = 4), with random weights. */
function bigCase(): string {
  let s = 12345;
  const rnd = (n: number, scale: number) => Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * scale;
  });
  const H = 512, I = 512, T = 4000, B = 4;
  return writeNpz(join(tmp(), 'big.npz'), {
    input: npy(rnd(T * B * I, 2), [T, B, I]),
    h0: npy(rnd(B * H, 1), [1, B, H]),
    h_n: npy(new Float32Array(B * H), [1, B, H]),
    weight_ih_l0: npy(rnd(3 * H * I, 0.08), [3 * H, I]),
    weight_hh_l0: npy(rnd(3 * H * H, 0.08), [3 * H, H]),
    bias_ih_l0: npy(rnd(3 * H, 0.08), [3 * H]),
    bias_hh_l0: npy(rnd(3 * H, 0.08), [3 * H]),
  });
}

function interrupt(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const t0 = performance.now();
    setTimeout(() => child.kill('SIGINT'), 1200);
    child.on('exit', (code) => resolve({ code, stderr, ms: performance.now() - t0 }));
  });
}

test('SIGINT during a long run exits 130 with one line, for both engines', async () => {
  const file = bigCase();
  for (const args of [['--threads', '1'], ['--threads', '2'], ['--engine', 'reference']]) {
    const r = await interrupt(['run', file, '--seq-first', ...args]);
    assert.equal(r.code, 130, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, 'gru-check: interrupted (SIGINT)\n');
    assert.ok(r.ms < 1200 + 1500, `stopped promptly (${Math.round(r.ms)} ms after start)`);
  }
});

test('a reader that closes the pipe early ends the run quietly, no EPIPE trace', () => {
  const r = spawnSync('bash', ['-c', `node ${BIN} run samples/*.npz --format json | head -c 10 >/dev/null; echo "exit \${PIPESTATUS[0]}" >&2`], { cwd: ROOT, encoding: 'utf8' });
  assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /);
  assert.match(r.stderr, /exit [01]\n$/);
});

test('the progress bar: drawn only on a TTY, only after the delay, erased at the end', () => {
  const bar = renderBar('computing x', 50, 100, 3200, 60);
  assert.equal(bar, `computing x [${'#'.repeat(17)}${'-'.repeat(17)}]  50%  3.2s`);
  assert.ok(bar.length <= 60, 'fits the terminal width');
  assert.equal(renderBar('x', 0, 0, 0).includes('0%'), true);
  const out: string[] = [];
  const tty = new Progress({ isTTY: true, columns: 80, write: (s) => out.push(s) }, 'load', 0);
  tty.update(1, 4);
  tty.end();
  assert.equal(out.length, 2);
  assert.match(out[0]!, /^\rload \[#+-+\]  25%/);
  assert.equal(out[1], '\r\x1b[K');
  const pipe: string[] = [];
  const p = new Progress({ isTTY: false, write: (s) => pipe.push(s) }, 'load', 0);
  p.update(1, 2);
  p.end();
  assert.deepEqual(pipe, []);
  const early: string[] = [];
  const e = new Progress({ isTTY: true, write: (s) => early.push(s) }, 'load', 60_000);
  e.update(1, 2);
  e.end();
  assert.deepEqual(early, [], 'short work never shows a bar');
});
