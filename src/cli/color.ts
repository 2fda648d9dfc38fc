/**
 * Colour decision, made once from the environment: --no-color and NO_COLOR (https://no-color.org)
 * turn it off; otherwise chalk's detection decides (FORCE_COLOR, and colour only on a TTY).
 * chalk 5 itself ignores NO_COLOR, hence this file.
 */
import { supportsColor } from 'chalk';

export function colorLevel(flag: boolean, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
  if (!flag) return 0;
  if (env.NO_COLOR && env.FORCE_COLOR === undefined) return 0;
  return supportsColor ? supportsColor.level : 0;
}
