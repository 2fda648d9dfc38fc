// Long runs stay interruptible (SIGINT -> exit 130, one line), a closed pipe ends quietly, and the
// progress bar draws only on a terminal after the delay.
//
// No clock decides anything here: SIGINT is sent when the CLI says on stderr that it has moved on
// to the long computation, and a run that is still computing when the signal is handled is one
// that exits 130 (a finished run exits 0 or 1). The computation is made long enough (seconds at
// full speed on two threads, minutes on the reference loops) that the signal, handled within
// ~50 ms by either engine, always lands inside it, on any machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { renderBar, Progress } from '../../src/cli/progress.js';
import { BIN, ROOT, npy, npyString, tmp, writeNpz } from '../helpers.js';

/**
 * A GRU of ~100 GFLOP in a ~5 MB file: I = 8, H = 512, T = 30000, B = 2, random weights, an
 * all-zero h_n as the expected tensor. `config` may add keys (an unknown one makes the CLI print a
 * warning once the case is read, before it computes).
 */
function bigCase(dir: string, config?: Record<string, unknown>): string {
  let s = 12345;
  const rnd = (n: number, scale: number) => Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * scale;
  });
  const H = 512, I = 8, T = 30000, B = 2;
  return writeNpz(join(dir, config ? 'big-config.npz' : 'big.npz'), {
    input: npy(rnd(T * B * I, 2), [T, B, I]),
    h0: npy(rnd(B * H, 1), [1, B, H]),
    h_n: npy(new Float32Array(B * H), [1, B, H]),
    weight_ih_l0: npy(rnd(3 * H * I, 0.08), [3 * H, I]),
    weight_hh_l0: npy(rnd(3 * H * H, 0.08), [3 * H, H]),
    bias_ih_l0: npy(rnd(3 * H, 0.08), [3 * H]),
    bias_hh_l0: npy(rnd(3 * H, 0.08), [3 * H]),
    ...(config ? { config: npyString(JSON.stringify(config)) } : {}),
  });
}

/**
 * Spawns the CLI and sends SIGINT once a stderr line matches `marker` (the CLI is past loading and
 * about to compute). Resolves with the exit code and all of stderr. A child still alive after a
 * minute is killed so a broken interrupt fails the test instead of hanging it.
 */
function interruptAfter(args: string[], marker: RegExp): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; sent: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
    let stderr = '';
    let sent = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (!sent && marker.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stderr, sent });
    });
  });
}

test('SIGINT during a long run exits 130 with one line, for both engines', async () => {
  const dir = tmp();
  const file = bigCase(dir);
  // The missing first case is reported at once; its error line says the CLI is on to the big case.
  const missing = join(dir, 'missing.npz');
  const marker = /^gru-check: error: .*missing\.npz: .*\n/;
  for (const args of [['--threads', '1'], ['--threads', '2'], ['--engine', 'reference']]) {
    const r = await interruptAfter(['run', missing, file, '--seq-first', ...args], marker);
    const what = `${args.join(' ')}: ${JSON.stringify(r.stderr)}`;
    assert.ok(r.sent, `never saw the marker line: ${what}`);
    assert.equal(r.code, 130, `exit code (130 = interrupted; 0 or 1 would mean the run finished first): ${what}`);
    const lines = r.stderr.split('\n').slice(0, -1);
    assert.equal(lines.length, 2, `the marker line and one more: ${what}`);
    assert.equal(lines[1], 'gru-check: interrupted (SIGINT)');
  }
});

test('SIGINT during diagnose exits 130 with one line', async () => {
  // The config's unknown key is warned about once the case is read, just before diagnose computes.
  const file = bigCase(tmp(), { batch_first: false, interrupt_me: true });
  const r = await interruptAfter(['diagnose', file], /^gru-check: warning: .*"interrupt_me".*\n/);
  assert.ok(r.sent, `never saw the warning: ${JSON.stringify(r.stderr)}`);
  assert.equal(r.code, 130, r.stderr);
  const lines = r.stderr.split('\n').slice(0, -1);
  assert.equal(lines.length, 2, r.stderr);
  assert.equal(lines[1], 'gru-check: interrupted (SIGINT)');
});

test('a reader that closes the pipe early ends the run quietly, no EPIPE trace', () => {
  const r = spawnSync('bash', ['-c', `"$NODE" ${BIN} run samples/*.npz --format json | head -c 10 >/dev/null; echo "exit \${PIPESTATUS[0]}" >&2`], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE: process.execPath },
  });
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
