/**
 * Where a suite's paths may lead. A suite is often part of a pull request: its `case`, `candidate`,
 * `onnx`, `weights` and `baseline` paths resolve against the suite file's folder and must stay in
 * it — no `..` out, no absolute path, no symbolic link (of the path or any folder on it) whose
 * target is outside — unless the user passes --allow-outside-suite. Checked when the suite is
 * parsed, before anything runs. (The check reads the file system; suite.ts stays pure and calls
 * this through its `resolve` callback.)
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { GruCheckError } from '../errors.js';
import { showName } from '../io/text.js';

const inside = (root: string, p: string): boolean => {
  const r = relative(root, p);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
};

/** The real path of `p`, or of its nearest existing folder with the rest appended (a path not yet created). */
function realish(p: string): string {
  let head = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(head), ...rest.reverse());
    } catch {
      const up = dirname(head);
      if (up === head) return p;
      rest.push(head.slice(up.length).replace(/^[\\/]+/, ''));
      head = up;
    }
  }
}

export const OUTSIDE_FLAG = '--allow-outside-suite';

/** A resolver for parseSuite: paths against the suite's folder, refused when they leave it (unless `allowOutside`). */
export function suitePathResolver(suiteFile: string, allowOutside: boolean): (p: string, where: string) => string {
  const dir = dirname(suiteFile);
  const refuse = (p: string, where: string, how: string): never => {
    throw new GruCheckError('USAGE', `${where}: '${showName(p)}' ${how}`, { file: suiteFile, hint: `keep the files under the suite's folder, or pass ${OUTSIDE_FLAG}` });
  };
  let realDir: string | undefined;
  return (p, where) => {
    if (allowOutside) return isAbsolute(p) ? p : join(dir, p);
    if (isAbsolute(p)) refuse(p, where, "is an absolute path: a suite's paths stay in its folder");
    const full = join(dir, p);
    if (!inside(resolve(dir), resolve(full))) refuse(p, where, "leaves the suite's folder");
    realDir ??= realish(resolve(dir));
    if (!inside(realDir, realish(resolve(full)))) refuse(p, where, "leaves the suite's folder through a symbolic link");
    return full;
  };
}
