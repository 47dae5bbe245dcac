import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CURATED_MODELS, HubError, planDownload } from '../../../src/engine/model/hubDownload';

// File lists shaped like the real transformers.js repositories on the hub.
const T5_SMALL = [
  '.gitattributes',
  'README.md',
  'config.json',
  'generation_config.json',
  'onnx/decoder_model.onnx',
  'onnx/decoder_model_merged.onnx',
  'onnx/decoder_model_merged_quantized.onnx',
  'onnx/decoder_model_quantized.onnx',
  'onnx/decoder_with_past_model.onnx',
  'onnx/decoder_with_past_model_quantized.onnx',
  'onnx/encoder_model.onnx',
  'onnx/encoder_model_quantized.onnx',
  'onnx/encoder_model_fp16.onnx',
  'quantize_config.json',
  'special_tokens_map.json',
  'spiece.model',
  'tokenizer.json',
  'tokenizer_config.json',
];

const DISTILBERT_SST2 = [
  '.gitattributes',
  'README.md',
  'config.json',
  'onnx/model.onnx',
  'onnx/model_bnb4.onnx',
  'onnx/model_fp16.onnx',
  'onnx/model_int8.onnx',
  'onnx/model_q4.onnx',
  'onnx/model_quantized.onnx',
  'onnx/model_uint8.onnx',
  'quantize_config.json',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.txt',
];

function paths(list: Array<string | { path: string }>): string[] {
  return list.map((f) => (typeof f === 'string' ? f : f.path)).sort();
}

function thrown(fn: () => unknown): HubError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HubError, `expected a HubError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('planDownload', () => {
  test('an encoder model in fp32 takes the metadata and onnx/model.onnx only', () => {
    const plan = planDownload(DISTILBERT_SST2, 'fp32');
    assert.deepEqual(paths(plan.files), [
      'config.json',
      'onnx/model.onnx',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    assert.deepEqual(plan.onnxFiles, ['onnx/model.onnx']);
    assert.deepEqual(plan.missing, []);
  });

  test('the quantized variant takes onnx/model_quantized.onnx and never the int8/uint8/q4/fp16 files', () => {
    const plan = planDownload(DISTILBERT_SST2, 'quantized');
    assert.deepEqual(plan.onnxFiles, ['onnx/model_quantized.onnx']);
    assert.deepEqual(
      paths(plan.files).filter((p) => p.endsWith('.onnx')),
      ['onnx/model_quantized.onnx'],
    );
  });

  test('T5 takes encoder and plain decoder, not the merged or with-past decoders', () => {
    const fp32 = planDownload(T5_SMALL, 'fp32');
    assert.deepEqual(fp32.onnxFiles, ['onnx/encoder_model.onnx', 'onnx/decoder_model.onnx']);
    assert.ok(paths(fp32.files).includes('generation_config.json'));
    assert.ok(!paths(fp32.files).includes('spiece.model'));
    const q = planDownload(T5_SMALL, 'quantized');
    assert.deepEqual(q.onnxFiles, ['onnx/encoder_model_quantized.onnx', 'onnx/decoder_model_quantized.onnx']);
  });

  test('the merged decoder is used only when the plain decoder is absent', () => {
    const list = T5_SMALL.filter((p) => p !== 'onnx/decoder_model_quantized.onnx');
    assert.deepEqual(planDownload(list, 'quantized').onnxFiles, [
      'onnx/encoder_model_quantized.onnx',
      'onnx/decoder_model_merged_quantized.onnx',
    ]);
    assert.deepEqual(planDownload(list, 'fp32').onnxFiles, ['onnx/encoder_model.onnx', 'onnx/decoder_model.onnx']);
  });

  test('a decoder-only export (GPT-2 style) takes decoder_model or, failing that, decoder_model_merged', () => {
    const gpt2 = ['config.json', 'tokenizer.json', 'onnx/decoder_model.onnx', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged_quantized.onnx'];
    assert.deepEqual(planDownload(gpt2, 'fp32').onnxFiles, ['onnx/decoder_model.onnx']);
    assert.deepEqual(planDownload(gpt2, 'quantized').onnxFiles, ['onnx/decoder_model_merged_quantized.onnx']);
  });

  test('external-data files come with their own graph only', () => {
    const list = [
      { path: 'config.json', size: 10 },
      { path: 'tokenizer.json', size: 20 },
      { path: 'onnx/model.onnx', size: 100 },
      { path: 'onnx/model.onnx_data', size: 1000 },
      { path: 'onnx/model.onnx_data_1', size: 500 },
      { path: 'onnx/model_quantized.onnx', size: 50 },
      { path: 'onnx/model_fp16.onnx', size: 60 },
      { path: 'onnx/model_fp16.onnx_data', size: 600 },
      { path: 'onnx/model.onnx_database', size: 1 },
    ];
    const fp32 = planDownload(list, 'fp32');
    assert.deepEqual(paths(fp32.files), ['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1', 'tokenizer.json']);
    assert.equal(fp32.totalBytes, 10 + 20 + 100 + 1000 + 500);
    const q = planDownload(list, 'quantized');
    assert.deepEqual(paths(q.files), ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json']);
    const dotData = planDownload(['onnx/encoder_model.onnx', 'onnx/encoder_model.onnx.data', 'onnx/decoder_model.onnx'], 'fp32');
    assert.deepEqual(paths(dotData.files), ['onnx/decoder_model.onnx', 'onnx/encoder_model.onnx', 'onnx/encoder_model.onnx.data']);
  });

  test('a repository without an onnx/ folder is refused with a hint to a repository that has one', () => {
    const err = thrown(() => planDownload(['config.json', 'pytorch_model.bin', 'tokenizer.json'], 'fp32', 'google-bert/bert-base-uncased'));
    assert.equal(err.code, 'no-onnx');
    assert.match(err.message, /google-bert\/bert-base-uncased publishes no ONNX export; pick a repository with an onnx\/ folder, e\.g\. Xenova\//);
  });

  test('a missing variant says which variants the repository does publish', () => {
    const err = thrown(() => planDownload(['config.json', 'onnx/model.onnx', 'onnx/model_fp16.onnx'], 'quantized', 'someone/model'));
    assert.equal(err.code, 'no-onnx');
    assert.match(err.message, /no quantized ONNX export; it publishes: fp32, fp16/);
    assert.deepEqual(err.availableVariants, ['fp32', 'fp16']);
  });

  test('an encoder without any decoder of the variant is a missing variant, not half a model', () => {
    const err = thrown(() => planDownload(['onnx/encoder_model_quantized.onnx', 'onnx/encoder_model.onnx', 'onnx/decoder_model.onnx'], 'quantized'));
    assert.equal(err.code, 'no-onnx');
  });

  test('a repository lacking tokenizer.json is planned but reports what it misses', () => {
    const plan = planDownload(['config.json', 'onnx/model.onnx'], 'fp32');
    assert.deepEqual(plan.missing, ['tokenizer.json']);
  });

  test('every curated model is a Xenova transformers.js export with a one-line description', () => {
    assert.deepEqual(
      CURATED_MODELS.map((m) => m.repo),
      [
        'Xenova/distilbert-base-uncased-finetuned-sst-2-english',
        'Xenova/bert-base-multilingual-uncased-sentiment',
        'Xenova/bert-base-uncased',
        'Xenova/distilgpt2',
        'Xenova/gpt2',
        'Xenova/t5-small',
      ],
    );
    for (const m of CURATED_MODELS) {
      assert.ok(m.description.length > 10 && !m.description.includes('\n'), m.repo);
    }
  });
});
