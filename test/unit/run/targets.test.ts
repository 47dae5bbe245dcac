// What a target names: the token shown is the token explained, numeric ids, which mask, which position,
// and targets of several tokens — their values checked against the ONNX graphs run directly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExplainParams, ExplanationResult, Prediction } from '../../../src/protocol/engineApi';
import { tokenNames } from '../../../src/engine/text/tokenNames';
import { QUIET, sharedServices } from '../../support/engineService';
import { fixtureModel } from '../../support/fixtureModels';
import { CASES, tokenizersFor } from '../text/tokenizerCases';

const opened = sharedServices();
const service = (name: string) => opened({ modelPath: fixtureModel(name) });

async function explain(name: string, params: ExplainParams): Promise<ExplanationResult> {
  return (await service(name)).handle('explain', params, QUIET);
}

async function predict(name: string, text: string): Promise<Prediction> {
  return (await service(name)).handle('predict', { text, topK: 10 }, QUIET);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** log softmax(row)[id] in float64, written out here. */
function logProbability(row: ArrayLike<number>, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let total = 0;
  for (let i = 0; i < row.length; i++) total += Math.exp(row[i] - max);
  return row[id] - max - Math.log(total);
}

const int64 = (ids: number[]) => new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);

/** Runs an ONNX file on one row of ids (all attended) and returns the logits row at each position. */
async function logitRows(file: string, ids: number[], typeIds = false): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(file);
  const feeds: Record<string, ort.Tensor> = { input_ids: int64(ids), attention_mask: int64(ids.map(() => 1)) };
  if (typeIds) feeds.token_type_ids = int64(ids.map(() => 0));
  const out = (await session.run(feeds)).logits;
  const v = out.dims[2];
  const data = out.data as Float32Array;
  return ids.map((_, p) => data.subarray(p * v, (p + 1) * v));
}

describe('token names', () => {
  for (const c of CASES) {
    test(`${c.name}: every token's name reads back as that token`, () => {
      const { ours } = tokenizersFor(c);
      const names = tokenNames(ours);
      const wrong: string[] = [];
      for (let id = 0; id < ours.vocabSize; id++) {
        if (ours.idToPiece(id) === undefined) continue;
        const name = names.name(id);
        if (names.lookup(name) !== id) wrong.push(`${id} ${JSON.stringify(name)} → ${names.lookup(name)}`);
      }
      assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} names do not read back`);
      if (c.kind === 'wordpiece') assert.equal(names.name(ours.tokenToId('##ing')!), '##ing', 'a continuation keeps its marker');
      if (c.kind === 'bpe-byte-level') assert.equal(names.name(ours.tokenToId('Ġg')!), ' g');
      if (c.kind === 'unigram') assert.equal(names.name(ours.tokenToId('▁the')!), ' the');
    });
  }
});

describe('targets name the token shown', () => {
  for (const [model, text] of [
    ['gpt2-op14', 'the story of a man who went to the'],
    ['t5-op14', 'the cat sat on the mat'],
    ['bert-mlm-op14', 'the man went to the [MASK] to buy milk'],
  ] as const) {
    test(`${model}: each of the top candidates, named as shown, is the token explained`, async () => {
      const p = await predict(model, text);
      for (const c of p.candidates) {
        const r = await explain(model, { text, method: 'occlusion', target: c.label });
        assert.equal(r.target.id, c.id, `target ${JSON.stringify(c.label)} explained token ${r.target.id}, shown as ${JSON.stringify(r.target.label)}`);
        assert.equal(r.target.label, c.label);
      }
    });
  }

  test('SentencePiece: " g" and "▁g" are the word-initial token, "g" the other one, and each run says which', async () => {
    const text = 'the cat sat on the mat';
    const names = tokenNames((await service('t5-op14')).current!.tokenizer);
    const initial = names.lookup('▁g')!;
    const inner = (await service('t5-op14')).current!.tokenizer.tokenToId('g')!;
    assert.notEqual(initial, inner);
    const spaced = await explain('t5-op14', { text, method: 'occlusion', target: ' g' });
    const piece = await explain('t5-op14', { text, method: 'occlusion', target: '▁g' });
    const plain = await explain('t5-op14', { text, method: 'occlusion', target: 'g' });
    assert.equal(spaced.target.id, initial);
    assert.equal(piece.target.id, initial);
    assert.equal(plain.target.id, inner);
    assert.ok(plain.notes.some((n) => n.includes('" g"') && n.includes(`id ${initial}`)), `the run says " g" is another token: ${plain.notes.join(' | ')}`);
    assert.ok(piece.notes.some((n) => n.includes('"▁g" is the token " g"')), piece.notes.join(' | '));
    assert.match(plain.target.description, new RegExp(`id ${inner}\\b`));
  });

  test('WordPiece continuations keep their ## marker and name that piece', async () => {
    const text = 'the man went to the [MASK] to buy milk';
    const tokenizer = (await service('bert-mlm-op14')).current!.tokenizer;
    const r = await explain('bert-mlm-op14', { text, method: 'occlusion', target: '##ing' });
    assert.equal(r.target.id, tokenizer.tokenToId('##ing'));
    assert.equal(r.target.label, '##ing');
    const word = await explain('bert-mlm-op14', { text, method: 'occlusion', target: 'to' });
    assert.equal(word.target.id, tokenizer.tokenToId('to'));
  });

  test('numeric ids: id:N and a number name that token; an id outside the vocabulary is refused', async () => {
    const text = 'the story of a man who went to the';
    const names = tokenNames((await service('gpt2-op14')).current!.tokenizer);
    assert.equal((await explain('gpt2-op14', { text, method: 'occlusion', target: 'id:42' })).target.id, 42);
    assert.equal((await explain('gpt2-op14', { text, method: 'occlusion', target: 42 })).target.label, names.name(42));
    await assert.rejects(explain('gpt2-op14', { text, method: 'occlusion', target: 'id:99999' }), /outside the vocabulary/);
  });
});

describe('which mask, which position', () => {
  const masked = 'the [MASK] [MASK] went to the [MASK]';

  test('mask K explains the K-th [MASK]: its candidates, its position', async () => {
    const p = await (await service('bert-mlm-op14')).handle('predict', { text: masked, topK: 10 }, QUIET);
    const masks = p.masks!.map((m) => m.tokenIndex);
    assert.equal(masks.length, 3);
    for (const k of [0, 1, 2]) {
      const r = await explain('bert-mlm-op14', { text: masked, method: 'occlusion', mask: k });
      assert.equal(r.target.position, masks[k]);
      assert.equal(r.target.id, p.masks![k].candidates[0].id, `mask ${k}: the prediction at that mask`);
      assert.deepEqual(r.fullOutput.candidates.map((c) => c.id), p.masks![k].candidates.map((c) => c.id));
    }
  });

  test('a mask that is not there is refused, naming the masks there are', async () => {
    await assert.rejects(explain('bert-mlm-op14', { text: masked, method: 'occlusion', mask: 3 }), /Mask 3 does not exist: the text has 3 \[MASK\]s \(at tokens 2, 3, 7\)/);
    await assert.rejects(explain('bert-mlm-op14', { text: masked, method: 'occlusion', maskIndex: 4 }), /Token 4 is not a \[MASK\]/);
  });

  test('a causal LM explained at position P gives the values of the text cut after P', async () => {
    const text = 'the story of a man who went to the';
    const prefix = 'the story of a man';
    const cut = (await (await service('gpt2-op14')).current!.prepare(prefix)).encoding.ids.length;
    const at = await explain('gpt2-op14', { text, method: 'exact-shapley', position: cut - 1, target: ' movie' });
    const short = await explain('gpt2-op14', { text: prefix, method: 'exact-shapley', target: ' movie' });
    assert.deepEqual(at.features.map((f) => f.text), ['the', 'story', 'of', 'a', 'man'], 'words after P are not features');
    at.features.forEach((f, j) => assert.ok(Math.abs(f.value - short.features[j].value) < 1e-5, `${f.text}: ${f.value} vs ${short.features[j].value}`));
    assert.ok(Math.abs(at.outputValue - short.outputValue) < 1e-5);
    assert.deepEqual(at.fullOutput.candidates.map((c) => c.id), short.fullOutput.candidates.map((c) => c.id), 'the prediction is read at P');
    await assert.rejects(explain('gpt2-op14', { text, method: 'occlusion', position: 99 }), /Position 99 does not exist: the text has \d+ tokens/);
  });
});

describe('targets of several tokens: Σ log-probabilities, teacher-forced, efficiency exact', () => {
  test('causal LM: the output is Σ log p of the tokens after the text and each other, as the graph computes it', async () => {
    const text = 'the story of a man who went';
    const s = await service('gpt2-op14');
    const model = s.current!;
    const r = await explain('gpt2-op14', { text, method: 'exact-shapley', target: ' moviegoers' });
    const ids = r.target.tokenIds!;
    assert.ok(ids.length >= 2, `" moviegoers" is several tokens: ${JSON.stringify(r.target)}`);
    assert.ok(r.notes.some((n) => n.includes(`${ids.length} tokens`)), r.notes.join(' | '));
    const textIds = (await model.prepare(text)).encoding.ids;
    const file = path.join(model.card.path, 'onnx', 'model.onnx');
    const rows = await logitRows(file, [...textIds, ...ids.slice(0, -1)]);
    const want = sum(ids.map((id, j) => logProbability(rows[textIds.length - 1 + j], id)));
    assert.ok(Math.abs(r.outputValue - want) < 1e-4, `f(x) = ${r.outputValue}, graph: ${want}`);
    // Every word removed (deleted): the empty text is the tokenizer's end-of-text token.
    const emptyId = (await model.prepare(text)).baseInput(new Set()).emptyId ?? 0;
    const emptyRows = await logitRows(file, [emptyId, ...ids.slice(0, -1)]);
    const base = sum(ids.map((id, j) => logProbability(emptyRows[j], id)));
    assert.ok(Math.abs(r.baseValue - base) < 1e-4, `f(∅) = ${r.baseValue}, graph: ${base}`);
    assert.ok(Math.abs(sum(r.features.map((f) => f.value)) - (r.outputValue - r.baseValue)) < 1e-5, 'Σφ = f(x) − f(∅)');
  });

  test('fill-mask: the tokens at consecutive [MASK]s, each log p read at its mask', async () => {
    const text = 'the [MASK] [MASK] went to the store';
    const model = (await service('bert-mlm-op14')).current!;
    const r = await explain('bert-mlm-op14', { text, method: 'exact-shapley', target: 'museum july' });
    const ids = r.target.tokenIds!;
    assert.equal(ids.length, 2);
    const enc = (await model.prepare(text)).encoding.ids;
    const rows = await logitRows(path.join(model.card.path, 'onnx', 'model.onnx'), enc, true);
    const want = logProbability(rows[2], ids[0]) + logProbability(rows[3], ids[1]);
    assert.ok(Math.abs(r.outputValue - want) < 1e-4, `f(x) = ${r.outputValue}, graph: ${want}`);
    assert.ok(Math.abs(sum(r.features.map((f) => f.value)) - (r.outputValue - r.baseValue)) < 1e-5);
    assert.ok(!r.features.some((f) => f.text.includes('[MASK]')), 'the masks read are never removed');
    await assert.rejects(explain('bert-mlm-op14', { text: 'the [MASK] went to the store', method: 'occlusion', target: 'museum july' }), /write 2 \[MASK\]s in a row/);
  });

  test('text-to-text: the tokens fed to the decoder after the generated ones, as the graphs compute it', async () => {
    const text = 'the cat sat on the mat';
    const model = (await service('t5-op14')).current!;
    const r = await explain('t5-op14', { text, method: 'exact-shapley', target: 'moviegoers', outputIndex: 0 });
    const ids = r.target.tokenIds!;
    assert.ok(ids.length >= 2);
    const enc = (await model.prepare(text)).encoding.ids;
    const encoder = await ort.InferenceSession.create(path.join(model.card.path, 'onnx', 'encoder_model.onnx'));
    const decoder = await ort.InferenceSession.create(path.join(model.card.path, 'onnx', 'decoder_model.onnx'));
    const hidden = (await encoder.run({ input_ids: int64(enc), attention_mask: int64(enc.map(() => 1)) })).last_hidden_state;
    const decoderIds = [0, ...ids.slice(0, -1)]; // decoder_start_token_id 0, then teacher forcing
    const idsInput = decoder.inputNames.find((n) => n.endsWith('input_ids'))!;
    const out = (await decoder.run({ [idsInput]: int64(decoderIds), encoder_hidden_states: hidden, encoder_attention_mask: int64(enc.map(() => 1)) })).logits;
    const v = out.dims[2];
    const data = out.data as Float32Array;
    const want = sum(ids.map((id, j) => logProbability(data.subarray(j * v, (j + 1) * v), id)));
    assert.ok(Math.abs(r.outputValue - want) < 1e-4, `f(x) = ${r.outputValue}, graphs: ${want}`);
    assert.ok(Math.abs(sum(r.features.map((f) => f.value)) - (r.outputValue - r.baseValue)) < 1e-5);
  });

  test('a contrast, or an analysis that reads one token, refuses a target of several tokens and says why', async () => {
    const text = 'the story of a man who went';
    await assert.rejects(explain('gpt2-op14', { text, method: 'occlusion', target: ' moviegoers', contrast: ' movie' }), /contrast compares the logits of two single tokens/);
    const s = await service('gpt2-op14');
    await assert.rejects(s.handle('headImportance', { text, target: ' moviegoers' }, QUIET), /tokens; this analysis measures one token/);
  });
});
