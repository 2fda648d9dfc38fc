/**
 * The part of jsfive (a pure-JavaScript HDF5 reader, https://github.com/usnistgov/jsfive) that
 * hdf5.ts uses. jsfive ships no types. The members starting with `_` are its internals, pinned by
 * the exact version in package.json: hdf5.ts reads a dataset's storage layout through them so it
 * can check the data's extent itself before reading a byte of it.
 */
declare module 'jsfive' {
  export interface DataObjects {
    offset: number;
    find_msg_type(type: number): Array<Map<string, number>>;
    _get_data_message_properties(msgOffset: number): [number, number | undefined, number, number];
  }
  export class Group {
    readonly name: string;
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset | null;
    _dataobjects: DataObjects;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    readonly dtype: string | unknown[];
    readonly attrs: Record<string, unknown>;
    _dataobjects: DataObjects;
  }
}
