import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorInfo } from '../../../src/engine/process/engineErrors';
import { openService, QUIET, recordingContext } from '../../support/engineService';
import { folderOf } from './inspectSupport';

describe('inside-the-model requests through the engine service', () => {
  test('each request answers on an open model, with progress for the long ones', async () => {
    const service = await openService({ modelPath: folderOf('bert-cls-op14'), options: { threads: 1 } });
    const text = 'this film was not good at all';
    const a = await service.handle('activations', { text }, QUIET);
    assert.equal(a.layers, 2);
    const lens = await service.handle('logitLens', { text }, QUIET);
    assert.ok(lens.finalLayerMaxAbsDiff < 1e-4);
    const recorded = recordingContext();
    const heads = await service.handle('headImportance', { text, prune: [[0, 1]] }, recorded);
    assert.equal(heads.grid!.length, 2);
    const last = recorded.events[recorded.events.length - 1];
    assert.equal(last.done, last.total);
    const cmp = await service.handle('compareModels', { text, timingRuns: 1 }, QUIET);
    assert.equal(cmp.b.variant !== cmp.a.variant, true);
    const rob = await service.handle('robustness', { text, maxVariants: 4 }, QUIET);
    assert.equal(rob.variants.length, 4);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-req-')), 'd.txt');
    fs.writeFileSync(file, 'a great story\nthe plot was weak\n');
    const ds = await service.handle('datasetRun', { path: file }, QUIET);
    assert.equal(ds.examples, 2);
    // Results cross the process boundary as structured clones.
    for (const r of [a, lens, heads, cmp, rob, ds]) assert.doesNotThrow(() => structuredClone(r));
    service.dispose();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  test('user mistakes come back as bad-input errors that say what to do', async () => {
    const service = await openService({ modelPath: folderOf('t5-op14'), options: { threads: 1 } });
    const err = await service.handle('headImportance', { text: 'translate English to German: the house' }, QUIET).catch((e) => e);
    assert.equal(errorInfo(err).code, 'bad-input');
    const missing = await service.handle('datasetRun', { path: '/nonexistent/file.csv' }, QUIET).catch((e) => e);
    assert.equal(errorInfo(missing).code, 'bad-input');
    service.dispose();
  });
});
