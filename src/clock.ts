/**
 * Milliseconds on the process's monotonic clock (process.hrtime), the same clock in every thread
 * of the process, so times taken in workers and in the main thread compare directly. Used instead
 * of performance.now(): on Node 20 the first use of the global `performance` loads perf_hooks and
 * its internal modules, a visible share of every CLI start.
 */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;
