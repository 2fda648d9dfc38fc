/**
 * Recognising the Keras file formats by content, without loading their reader (hdf5.ts pulls in
 * jsfive, which most runs never need): load.ts asks these first, then imports the reader.
 */
import type { ZipArchive } from './npz.js';

/** The HDF5 signature, at offset 0 when there is no user block (h5py writes none). */
export const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] as const;

export function looksLikeHdf5(head: Uint8Array): boolean {
  return HDF5_MAGIC.every((b, i) => head[i] === b);
}

/** A zip is a .keras archive when it holds config.json and model.weights.h5 (or metadata.json) at its root. */
export function isKerasArchive(zip: ZipArchive): boolean {
  const names = new Set(zip.entries.map((e) => e.name));
  return names.has('config.json') && (names.has('model.weights.h5') || names.has('metadata.json'));
}
