/**
 * --format json: one JSON document, the RunSummary with the documented stable names (docs/json.md,
 * schema/result.schema.json). Per-step error arrays, heatmaps and |error| histograms stay out: they are for the plots
 * (and the first two grow with T).
 */
import type { RunSummary } from '../result.js';

export function renderJson(s: RunSummary): string {
  const cases = s.cases.map((c) => {
    const { tolerance: _t, layoutSource: _l, ...rest } = c;
    return { ...rest, checks: c.checks.map(({ stepMaxAbs: _s, errorMap: _m, errorHistogram: _h, ...k }) => k) };
  });
  return `${JSON.stringify({ pass: s.pass, summary: s.summary, ...(s.shard ? { shard: s.shard } : {}), cases }, null, 2)}\n`;
}
