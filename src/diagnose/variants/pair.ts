/** Two mistakes at once, as one variant: how diagnose's search tries pairs. */
import type { Variant, VariantPlan } from './variant.js';

/**
 * Two mistakes at once, as one variant (`a+b`): b's plan is made on the case as a left it, math
 * changes merged, decorators, input and final changes composed. Undefined when they cannot
 * combine (same family, or a precision emulation); its plan throws when both set one math field.
 */
export function pairOf(a: Variant, b: Variant): Variant | undefined {
  // Precision emulations are judged on statistics, which a second mistake would swamp.
  if (a.family === b.family || a.mixesSequences || b.mixesSequences || a.judge || b.judge) return undefined;
  const touches = {
    hnOnly: !!a.touches?.hnOnly && !!b.touches?.hnOnly,
    backwardOnly: !!a.touches?.backwardOnly && !!b.touches?.backwardOnly,
    shortSequencesOnly: !!a.touches?.shortSequencesOnly && !!b.touches?.shortSequencesOnly,
    fromLayer: Math.min(a.touches?.fromLayer ?? 0, b.touches?.fromLayer ?? 0),
  };
  const pair: Variant = {
    name: `${a.name}+${b.name}`,
    family: `${a.family}+${b.family}`,
    fix: `${a.fix}; and ${b.fix}`,
    touches,
    plan: (c) => {
      const p = a.plan(c);
      const q = b.plan({ ...c, params: p.params ?? c.params, h0: p.h0 ?? c.h0 });
      const clash = p.math && q.math && Object.keys(q.math).some((k) => k in p.math!);
      if (clash || (p.precision && q.precision)) throw new Error(`${a.name} and ${b.name} change the same thing`);
      const plan: VariantPlan = {};
      const params = q.params ?? p.params;
      if (params) plan.params = params;
      if (p.math || q.math) plan.math = { ...p.math, ...q.math };
      const h0 = q.h0 ?? p.h0;
      if (h0) plan.h0 = h0;
      if (p.decorate || q.decorate) plan.decorate = (r) => (q.decorate ? q.decorate(p.decorate ? p.decorate(r) : r) : p.decorate!(r));
      if (p.input || q.input) plan.input = (run) => (q.input ? q.input(p.input ? p.input(run) : run) : p.input!(run));
      if (p.finish || q.finish) plan.finish = (r, run) => (q.finish ? q.finish(p.finish ? p.finish(r, run) : r, run) : p.finish!(r, run));
      const precision = q.precision ?? p.precision;
      if (precision) plan.precision = precision;
      return plan;
    },
  };
  return pair;
}
