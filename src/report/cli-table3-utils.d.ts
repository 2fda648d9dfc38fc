/**
 * cli-table3's own width function (string-width on the text with ANSI codes stripped), which
 * report/inspect.ts uses to lay out its table exactly as cli-table3 would. cli-table3 ships no
 * types for its src/ files; this one function is pinned by the exact version in package.json.
 */
declare module 'cli-table3/src/utils.js' {
  const utils: { strlen(s: string): number };
  export default utils;
}
