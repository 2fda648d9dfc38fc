/** Number and index formatting shared by the text renderers. */

export function sci(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  return x.toExponential(2);
}

export const fmtIndex = (idx: number[] | null): string => (idx ? `[${idx.join(', ')}]` : '');
/** A shape as PyTorch prints a size: (3, 4), (5,). (Errors use model/arrays.ts shapeInBrackets.) */
export const shapeInParens = (shape: number[]): string => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

export function pct(part: number, total: number): string {
  if (total === 0) return '0%';
  const p = (100 * part) / total;
  return p === 0 ? '0%' : p < 0.01 ? '<0.01%' : `${Number(p.toPrecision(3))}%`;
}

/** A tolerance as a person writes it: 1.3e-6, 1e-5, 0.01. */
export function num(x: number): string {
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential().replace(/\.?0+e/, 'e');
  return String(x);
}
