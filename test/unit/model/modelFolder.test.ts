import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../../src/engine/model/modelError';
import { findModelFiles, loadGraphFile } from '../../../src/engine/model/modelFolder';
import { tempDir } from '../../support/tempFolders';
import { GRAPHS } from './referenceFixtures';

const SAMPLE = path.join(GRAPHS, 'not-transformer', 'model.onnx');

function layout(files: string[]): string {
  const dir = tempDir('folder');
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    if (f.endsWith('.onnx')) fs.copyFileSync(SAMPLE, path.join(dir, f));
    else fs.writeFileSync(path.join(dir, f), '{}');
  }
  return dir;
}

function isModelError(code: string, pattern: RegExp) {
  return (e: unknown) => e instanceof ModelError && e.code === code && pattern.test(e.message);
}

describe('findModelFiles', () => {
  test('transformers.js layout: graphs under onnx/, fp32 by default, quantized on request', () => {
    const dir = layout(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx', 'onnx/model_fp16.onnx']);
    const fp32 = findModelFiles(dir);
    assert.equal(fp32.variant, 'fp32');
    assert.equal(fp32.graphs.model, path.join(dir, 'onnx', 'model.onnx'));
    assert.deepEqual(fp32.variants, ['fp32', 'quantized', 'fp16']);
    assert.equal(fp32.config, path.join(dir, 'config.json'));
    assert.equal(fp32.tokenizerConfig, path.join(dir, 'tokenizer_config.json'));
    assert.equal(fp32.specialTokensMap, undefined);
    assert.equal(findModelFiles(dir, { variant: 'quantized' }).graphs.model, path.join(dir, 'onnx', 'model_quantized.onnx'));
    assert.equal(findModelFiles(dir, { variant: 'model_fp16.onnx' }).graphs.model, path.join(dir, 'onnx', 'model_fp16.onnx'));
    assert.throws(() => findModelFiles(dir, { variant: 'model_q4.onnx' }), isModelError('not-found', /No model file "model_q4\.onnx".*variants present: fp32, quantized, fp16/));
  });

  test('Optimum layout at the top; int8 stands in for quantized; no fp32 falls back to a variant', () => {
    const dir = layout(['tokenizer.json', 'model_int8.onnx', 'model_uint8.onnx']);
    const files = findModelFiles(dir);
    assert.equal(files.variant, 'int8');
    assert.equal(findModelFiles(dir, { variant: 'quantized' }).graphs.model, path.join(dir, 'model_int8.onnx'));
    assert.throws(() => findModelFiles(dir, { variant: 'fp32' }), isModelError('not-found', /No full-precision model/));
  });

  test('encoder-decoder: encoder, plain decoder, merged and with-past graphs of one variant', () => {
    const dir = layout(['tokenizer.json', 'onnx/encoder_model.onnx', 'onnx/decoder_model.onnx', 'onnx/decoder_model_merged.onnx',
      'onnx/decoder_with_past_model.onnx', 'onnx/encoder_model_quantized.onnx', 'onnx/decoder_model_merged_quantized.onnx']);
    const fp32 = findModelFiles(dir);
    assert.deepEqual(Object.keys(fp32.graphs).sort(), ['decoder', 'decoderMerged', 'decoderWithPast', 'encoder']);
    assert.equal(fp32.graphs.decoderMerged, path.join(dir, 'onnx', 'decoder_model_merged.onnx'));
    const q = findModelFiles(dir, { variant: 'quantized' });
    assert.deepEqual(q.graphs, {
      encoder: path.join(dir, 'onnx', 'encoder_model_quantized.onnx'),
      decoderMerged: path.join(dir, 'onnx', 'decoder_model_merged_quantized.onnx'),
    });
  });

  test('a single .onnx file with tokenizer.json beside it', () => {
    const dir = layout(['custom-name.onnx', 'tokenizer.json', 'special_tokens_map.json']);
    const files = findModelFiles(path.join(dir, 'custom-name.onnx'));
    assert.equal(files.folder, dir);
    assert.equal(files.graphs.model, path.join(dir, 'custom-name.onnx'));
    assert.equal(files.specialTokensMap, path.join(dir, 'special_tokens_map.json'));
  });

  test('missing tokenizer.json names the folder and the fix, unless the caller feeds ids', () => {
    const dir = layout(['onnx/model.onnx']);
    assert.throws(() => findModelFiles(dir), (e: unknown) => e instanceof ModelError && e.code === 'missing-tokenizer' &&
      e.message.includes(dir) && /tokenizer\.json/.test(e.message) && /save_pretrained/.test(e.message));
    assert.equal(findModelFiles(dir, { requireTokenizer: false }).graphs.model, path.join(dir, 'onnx', 'model.onnx'));
  });

  test('no model at all, or a path that is not there', () => {
    const dir = layout(['tokenizer.json']);
    assert.throws(() => findModelFiles(dir), isModelError('not-found', /No ONNX model in .*expected model\.onnx/));
    assert.throws(() => findModelFiles(path.join(dir, 'nope')), isModelError('not-found', /does not exist/));
  });
});

describe('external data', () => {
  test('a location above the model folder is refused, even when the file exists', () => {
    const root = tempDir('external');
    const dir = path.join(root, 'model');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(GRAPHS, 'external-outside', 'model.onnx'), path.join(dir, 'model.onnx'));
    fs.writeFileSync(path.join(root, 'outside.bin'), Buffer.alloc(160));
    assert.throws(() => loadGraphFile(path.join(dir, 'model.onnx')),
      isModelError('external-data-outside-folder', /external data "\.\.\/outside\.bin" outside the model folder/));
  });

  test('a symbolic link inside the folder that leads out is refused; a real file inside is accepted', () => {
    const root = tempDir('symlink');
    const dir = path.join(root, 'model');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    // Same graph, with its data file one folder down: "../outside.bin" from sub/ lands in dir.
    fs.copyFileSync(path.join(GRAPHS, 'external-outside', 'model.onnx'), path.join(dir, 'sub', 'model.onnx'));
    fs.writeFileSync(path.join(root, 'secret.bin'), Buffer.alloc(160));
    fs.symlinkSync(path.join(root, 'secret.bin'), path.join(dir, 'outside.bin'));
    assert.throws(() => loadGraphFile(path.join(dir, 'sub', 'model.onnx'), dir),
      isModelError('external-data-outside-folder', /through a link that leads outside/));
    fs.unlinkSync(path.join(dir, 'outside.bin'));
    fs.writeFileSync(path.join(dir, 'outside.bin'), Buffer.alloc(160));
    const loaded = loadGraphFile(path.join(dir, 'sub', 'model.onnx'), dir);
    assert.equal(loaded.model.graph.initializers[0].externalLocation, '../outside.bin');
  });
});
