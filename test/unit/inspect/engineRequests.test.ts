import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineService } from '../../../src/engine/process/engineService';
import { errorInfo } from '../../../src/engine/process/engineErrors';
import { folderOf, quietContext } from './inspectSupport';

describe('inside-the-model requests through the engine service', () => {
  test('each request answers on an open model, with progress for the long ones', async () => {
    const service = new EngineService();
    await service.handle('open', { modelPath: folderOf('bert-cls-op14'), options: { threads: 1 } }, quietContext());
    const text = 'this film was not good at all';
    const a = await service.handle('activations', { text }, quietContext());
    assert.equal(a.layers, 2);
    const lens = await service.handle('logitLens', { text }, quietContext());
    assert.ok(lens.finalLayerMaxAbsDiff < 1e-4);
    const events: { done: number; total: number }[] = [];
    const heads = await service.handle('headImportance', { text, prune: [[0, 1]] }, quietContext(events));
    assert.equal(heads.grid!.length, 2);
    assert.equal(events[events.length - 1].done, events[events.length - 1].total);
    const cmp = await service.handle('compareModels', { text, timingRuns: 1 }, quietContext());
    assert.equal(cmp.b.variant !== cmp.a.variant, true);
    const rob = await service.handle('robustness', { text, maxVariants: 4 }, quietContext());
    assert.equal(rob.variants.length, 4);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-req-')), 'd.txt');
    fs.writeFileSync(file, 'a great story\nthe plot was weak\n');
    const ds = await service.handle('datasetRun', { path: file }, quietContext());
    assert.equal(ds.examples, 2);
    // Results cross the process boundary as structured clones.
    for (const r of [a, lens, heads, cmp, rob, ds]) assert.doesNotThrow(() => structuredClone(r));
    service.dispose();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  test('user mistakes come back as bad-input errors that say what to do', async () => {
    const service = new EngineService();
    await service.handle('open', { modelPath: folderOf('t5-op14'), options: { threads: 1 } }, quietContext());
    const err = await service.handle('headImportance', { text: 'translate English to German: the house' }, quietContext()).catch((e) => e);
    assert.equal(errorInfo(err).code, 'bad-input');
    const missing = await service.handle('datasetRun', { path: '/nonexistent/file.csv' }, quietContext()).catch((e) => e);
    assert.equal(errorInfo(missing).code, 'bad-input');
    service.dispose();
  });
});
