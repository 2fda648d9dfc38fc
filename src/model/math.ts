/** The GRU equation PyTorch uses; other layouts say where they differ. */
import type { GruMath } from './types.js';

export const PYTORCH_MATH: GruMath = Object.freeze({ linearBeforeReset: true });
