// Preloaded into the server (node --import) by bench/alloc/drive.mjs: counts GCs and, on SIGUSR2, opens then closes a
// measurement window; at its close writes { heapDelta, minor, major } (and a sampled heap profile) to $PROBE_OUT.
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const counts = { minor: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.minor++;
    else counts.major++;
  }
}).observe({ entryTypes: ['gc'] });

const out = process.env.PROBE_OUT;
const sample = process.env.PROBE_SAMPLE; // 'all': every allocation; 'promoted': those that outlived the scavenges
let start;
let session;
const post = (method, params) =>
  new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));

process.on('SIGUSR2', async () => {
  if (!start) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the observer hears of that GC before counting starts
    if (sample) {
      session = new Session();
      session.connect();
      await post('HeapProfiler.enable', {});
      await post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMinorGC: sample === 'all',
        includeObjectsCollectedByMajorGC: true,
      });
    }
    start = { heap: process.memoryUsage().heapUsed, ...counts };
    writeFileSync(`${out}.begin`, '1');
    return;
  }
  const heapDelta = process.memoryUsage().heapUsed - start.heap;
  const window = { heapDelta, minor: counts.minor - start.minor, major: counts.major - start.major };
  if (session) {
    if (sample === 'promoted') for (let i = 0; i < 2; i++) globalThis.gc?.({ type: 'minor' });
    const { profile } = await post('HeapProfiler.stopSampling', {});
    writeFileSync(`${out}.heapprofile`, JSON.stringify(profile));
  }
  writeFileSync(`${out}.tmp`, JSON.stringify(window));
  renameSync(`${out}.tmp`, out); // the driver waits for the file: it appears whole
  start = undefined;
});
