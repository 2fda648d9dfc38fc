/**
 * Milliseconds on the process's monotonic clock (process.hrtime), the same clock in every thread
 * of the process, so times taken in workers and in the main thread compare directly. Used instead
 * of performance.now(): on Node 20 the first use of the global `performance` loads perf_hooks and
 * its internal modules, which every CLI start paid (6 of 89 ms in a CPU profile of a run on a
 * sample).
 */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;
