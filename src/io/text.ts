/**
 * Owns how names that come from a file (zip member names, file names in a directory, array names,
 * symlink targets) appear in error messages. They are attacker-controlled in a CI gate: a member
 * named "x\n...npy" would break the one-line error contract, and an ESC or a bidi override would
 * rewrite what the CI log shows. So control characters (C0, DEL, C1), Unicode line/paragraph
 * separators, bidi controls and BOM are shown as escapes, and long names are clipped.
 */

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `a\nb` -> `a\\nb`, ESC -> `\\x1b`, U+202E -> `\\u202e`; everything else unchanged. */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** escapeControls, but line breaks and tabs stay: for multi-line text in a file format (XML, HTML). */
export function escapeControlsKeepLines(s: string): string {
  return s.replace(UNSAFE, (c) => (c === '\n' || c === '\t' ? c : escapeControls(c)));
}

/** How long one printed message (an error or warning line, a note) may be before it is clipped. */
export const MESSAGE_LIMIT = 1000;

/**
 * `s` cut at `max` characters with an ellipsis and how much was left out:
 * `abc… (4,000 more characters)`. The one way every message gru-check prints is kept to one
 * bounded line (a 700 KB option value or list of names would otherwise reach a CI log whole).
 */
export function clip(s: string, max = MESSAGE_LIMIT): string {
  if (s.length <= max) return s;
  // Never split a surrogate pair: half an emoji is not valid text in a UTF-8 log.
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${s.slice(0, end)}… (${(s.length - end).toLocaleString('en-US')} more characters)`;
}

/** A name as messages show it: escaped, and clipped past `max` characters. */
export function showName(name: string, max = 100): string {
  return clip(escapeControls(name), max);
}

/** One printed line: control characters escaped, then clipped at MESSAGE_LIMIT. */
export function oneLine(s: string, max = MESSAGE_LIMIT): string {
  return clip(escapeControls(s), max);
}

/**
 * Last line of defence at each public entry point: whatever a message or hint was built from, it
 * leaves as one printable line of bounded length.
 */
export function sanitizeError<E extends { message: string; readonly hint?: string | undefined }>(e: E, maxLength = 2000): E {
  e.message = oneLine(e.message, maxLength);
  if (e.hint !== undefined) (e as { hint: string | undefined }).hint = oneLine(e.hint, maxLength);
  return e;
}
