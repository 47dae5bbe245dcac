import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExplainParams, ExplanationResult, MethodName } from '../../../src/protocol/engineApi';
import { QUIET, sharedServices } from '../../support/engineService';
import { fixtureModel, readReference } from '../../support/fixtureModels';

const opened = sharedServices();
const model = (name: string) => opened({ modelPath: fixtureModel(name) });

async function explain(name: string, params: ExplainParams): Promise<ExplanationResult> {
  return (await model(name)).handle('explain', params, QUIET);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('explanations of a bag-of-words model (closed form: each word adds its weight)', () => {
  const weights = (readReference('additive-bow') as unknown as { weights: number[] }).weights;
  const text = 'this film was not good at all , unbelievably';

  async function expected(): Promise<number[]> {
    const service = await model('additive-bow');
    const input = await service.current!.prepare(text);
    return input.encoding.words.map((w) => sum(w.tokenIndices.map((t) => weights[input.encoding.ids[t]])));
  }

  for (const method of ['exact-shapley', 'kernel-shap', 'partition-shap', 'occlusion'] as MethodName[]) {
    test(`${method} returns each word's coefficient`, async () => {
      const want = await expected();
      const r = await explain('additive-bow', { text, method, target: 'POSITIVE', budget: 400, seed: 3 });
      assert.deepEqual(r.features.map((f) => f.text), ['this', 'film', 'was', 'not', 'good', 'at', 'all', ',', 'unbelievably']);
      r.features.forEach((f, j) => assert.ok(Math.abs(f.value - want[j]) < 1e-5, `${f.text}: ${f.value} vs ${want[j]}`));
    });
  }

  test('LIME recovers the coefficients with R² ≈ 1', async () => {
    const want = await expected();
    const r = await explain('additive-bow', { text, method: 'lime', target: 'POSITIVE', budget: 2000, seed: 1 });
    assert.ok(r.fit && r.fit.r2 > 0.999, `R² = ${r.fit?.r2}`);
    // Ridge with alpha 1 shrinks slightly; the ranking and the size are kept.
    r.features.forEach((f, j) => assert.ok(Math.abs(f.value - want[j]) < 0.02 * Math.max(1, Math.abs(want[j])), `${f.text}: ${f.value} vs ${want[j]}`));
  });

  test('a perturbed input is never re-tokenized: a removed word becomes masks, its neighbours keep their ids', async () => {
    const service = await model('additive-bow');
    const input = await service.current!.prepare('unbelievably good');
    const pieces = input.encoding.tokens.map((t) => t.text);
    assert.ok(pieces.length > 4, `"unbelievably" splits into sub-words: ${pieces.join(' ')}`);
    const r = await explain('additive-bow', { text: 'unbelievably good', method: 'exact-shapley', target: 'POSITIVE' });
    const wordOf = input.encoding.words[0];
    assert.ok(Math.abs(r.features[0].value - sum(wordOf.tokenIndices.map((t) => weights[input.encoding.ids[t]]))) < 1e-5);
  });
});

describe('explanations of an AND of two words', () => {
  test('exact Shapley splits the interaction equally; the other words get nothing', async () => {
    const r = await explain('and-bow', { text: 'the film was not good', method: 'exact-shapley', target: 'POSITIVE' });
    const byWord = Object.fromEntries(r.features.map((f) => [f.text, f.value]));
    assert.ok(Math.abs(byWord.not - 0.5) < 1e-6 && Math.abs(byWord.good - 0.5) < 1e-6, JSON.stringify(byWord));
    for (const w of ['the', 'film', 'was']) assert.ok(Math.abs(byWord[w]) < 1e-6, `${w} is a dummy`);
    assert.equal(r.outputValue - r.baseValue, 1);
  });
});

describe('explanations of transformer fixtures', () => {
  const cases: [string, string, string][] = [
    ['bert-cls-op14', 'this film was not good at all', 'class'],
    ['distilbert-cls-op17', 'a great story with a thin plot', 'class'],
    ['bert-cls-op14/quantized', 'this film was not good at all', 'class'],
    ['bert-mlm-op14', 'the man went to the [MASK] to buy milk', 'masked-token'],
    ['gpt2-op14', 'the story of a man who went to the', 'next-token'],
    ['t5-op14', 'the cat sat on the mat', 'output-token'],
  ];
  for (const [name, text, kind] of cases) {
    for (const method of ['exact-shapley', 'kernel-shap', 'partition-shap'] as MethodName[]) {
      test(`${name} ${method}: values sum to f(x) − f(all removed) (${kind} target)`, async () => {
        const [fixture, variant] = name.split('/');
        const service = await opened({ modelPath: fixtureModel(fixture), variant });
        const r = await service.handle('explain', { text, method, budget: 300, seed: 5 }, QUIET);
        assert.equal(r.target.kind, kind);
        const total = sum(r.features.map((f) => f.value));
        assert.ok(Math.abs(total - (r.outputValue - r.baseValue)) < 1e-5, `Σφ = ${total}, f(x) − f(∅) = ${r.outputValue - r.baseValue}`);
        assert.equal(r.provenance.method, method);
        assert.equal(r.provenance.seed, 5);
        assert.match(r.provenance.modelSha256, /^[0-9a-f]{64}$/);
        assert.ok(r.faithfulness && Number.isFinite(r.faithfulness.comprehensiveness));
      });
    }
  }

  test('a contrastive target equals the difference of the two single-target explanations', async () => {
    const text = 'a great story with a thin plot';
    for (const method of ['exact-shapley', 'partition-shap'] as MethodName[]) {
      const a = await explain('distilbert-cls-op17', { text, method, target: 'positive', seed: 2 });
      const b = await explain('distilbert-cls-op17', { text, method, target: 'negative', seed: 2 });
      const c = await explain('distilbert-cls-op17', { text, method, target: 'positive', contrast: 'negative', seed: 2 });
      assert.equal(c.target.contrastLabel, 'negative');
      c.features.forEach((f, j) => assert.ok(Math.abs(f.value - (a.features[j].value - b.features[j].value)) < 1e-5, `${method} ${f.text}`));
    }
  });

  test('the same seed reproduces bit for bit; another seed differs (sampling methods)', async () => {
    const text = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';
    for (const method of ['kernel-shap', 'lime'] as MethodName[]) {
      const a = await explain('bert-cls-op14', { text, method, budget: 200, seed: 11 });
      const b = await explain('bert-cls-op14', { text, method, budget: 200, seed: 11 });
      const c = await explain('bert-cls-op14', { text, method, budget: 200, seed: 12 });
      assert.deepEqual(a.features.map((f) => f.value), b.features.map((f) => f.value));
      assert.notDeepEqual(a.features.map((f) => f.value), c.features.map((f) => f.value));
    }
  });

  test('progress events carry the partial estimate per word, ending with the final values', async () => {
    const service = await model('bert-cls-op14');
    const partials: { features: { text: string; value: number }[]; final: boolean }[] = [];
    const text = 'one two three four five six seven eight nine ten eleven twelve';
    const r = await service.handle('explain', { text, method: 'kernel-shap', budget: 600, seed: 4 }, {
      isCancelled: () => false,
      progress: (p) => {
        if (p.partial) partials.push(p.partial as (typeof partials)[number]);
      },
    });
    assert.ok(partials.length >= 2, `${partials.length} partial estimates`);
    const last = partials[partials.length - 1];
    assert.equal(last.final, true);
    assert.deepEqual(last.features.map((f) => f.text), r.features.map((f) => f.text));
    assert.deepEqual(last.features.map((f) => f.value), r.features.map((f) => f.value));
  });

  test('Partition SHAP uses a flat hierarchy when the budget covers every coalition, and then equals exact Shapley', async () => {
    const text = 'this film was not good at all';
    const exact = await explain('bert-cls-op14', { text, method: 'exact-shapley' });
    const flat = await explain('bert-cls-op14', { text, method: 'partition-shap', budget: 128 });
    assert.ok(flat.notes.some((n) => /flat hierarchy/.test(n)));
    flat.features.forEach((f, j) => assert.ok(Math.abs(f.value - exact.features[j].value) < 1e-6, f.text));
    const owen = await explain('bert-cls-op14', { text, method: 'partition-shap', budget: 100 });
    assert.ok(!owen.notes.some((n) => /flat hierarchy/.test(n)), 'a budget below 2^n keeps the text hierarchy');
  });

  test('each method keeps to its budget, whatever the cache holds; the faithfulness evaluations beyond it are stated', async () => {
    const text = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty';
    for (const method of ['kernel-shap', 'partition-shap', 'lime'] as MethodName[]) {
      const first = await explain('bert-cls-op14', { text, method, budget: 100, seed: 3 });
      const again = await explain('bert-cls-op14', { text, method, budget: 100, seed: 3 });
      assert.equal(again.evaluations, first.evaluations, `${method}: the count does not depend on the evaluator's cache`);
      assert.ok(first.evaluations <= 100 && first.evaluations > 50, `${method}: ${first.evaluations} evaluations for a budget of 100`);
      const extra = first.faithfulness!.evaluations;
      assert.ok(extra > 0 && extra <= 2 * 20, `${method}: faithfulness ${extra}`);
      const note = first.notes.find((n) => /beyond the budget/.test(n));
      assert.ok(note?.includes(`took ${extra} evaluations beyond the budget of 100`) && note.includes(`${first.evaluations + extra} in all`), first.notes.join(' | '));
      assert.ok(first.timing!.modelRows > 0 && again.timing!.modelRows === 0, 'the second request ran nothing new');
    }
  });

  test('Partition SHAP keeps to a budget below 2n + 2 (it fits no regression), and says nothing was raised', async () => {
    const text = Array.from({ length: 40 }, (_, i) => ['good', 'film', 'not', 'bad', 'plot'][i % 5]).join(' ');
    const r = await explain('bert-cls-op14', { text, method: 'partition-shap', budget: 30 });
    assert.equal(r.features.length, 40);
    assert.equal(r.provenance.budget, 30);
    assert.equal(r.provenance.budgetNote, undefined);
    assert.ok(r.evaluations <= 30 && r.evaluations >= 20, `${r.evaluations} evaluations`);
    assert.ok(Math.abs(sum(r.features.map((f) => f.value)) - (r.outputValue - r.baseValue)) < 1e-5);
    const kernel = await explain('bert-cls-op14', { text, method: 'kernel-shap', budget: 30 });
    assert.equal(kernel.provenance.budget, 82);
    assert.match(kernel.provenance.budgetNote ?? '', /raised to 82, the fewest evaluations kernel-shap needs/);
  });

  test('Partition SHAP labels Owen values as Owen values, and says when they are Shapley values', async () => {
    const text = 'one two three four five six seven eight nine ten eleven twelve';
    const owen = await explain('bert-cls-op14', { text, method: 'partition-shap', budget: 4000 });
    assert.equal(owen.convergence.kind, 'exact-owen');
    assert.equal(owen.valueKind, 'owen');
    assert.ok(owen.notes.some((n) => /Owen values over the text's hierarchy \(.*\), computed exactly/.test(n) && n.includes('4,096')), owen.notes.join(' | '));
    const flat = await explain('bert-cls-op14', { text, method: 'partition-shap', budget: 4096 });
    assert.equal(flat.convergence.kind, 'exact');
    assert.equal(flat.valueKind, 'shapley');
    const exact = await explain('bert-cls-op14', { text, method: 'exact-shapley' });
    flat.features.forEach((f, j) => assert.ok(Math.abs(f.value - exact.features[j].value) < 1e-6));
    assert.ok(owen.features.some((f, j) => Math.abs(f.value - exact.features[j].value) > 1e-4), 'the Owen values are not the Shapley values here');
    const lime = await explain('bert-cls-op14', { text, method: 'lime', budget: 500, seed: 1 });
    assert.notEqual(lime.convergence.kind, 'exact');
    assert.equal(lime.valueKind, 'lime');
  });

  test('the first progress event says how long the explanation will take, before any of its work', async () => {
    const service = await model('bert-cls-op14');
    const events: { done: number; estimatedMs?: number; message?: string }[] = [];
    const r = await service.handle('explain', { text: 'one two three four five six seven eight nine ten eleven twelve', method: 'kernel-shap', budget: 300, seed: 8 }, {
      isCancelled: () => false,
      progress: (p) => events.push(p),
    });
    assert.ok(events.length >= 2);
    assert.match(events[0].message ?? '', /^kernel-shap: about .+ for up to 324 model evaluations$/);
    assert.ok(events[0].estimatedMs! > 0);
    assert.ok(events.every((e) => e.estimatedMs !== undefined));
    assert.equal(r.timing!.estimatedMs, events[0].estimatedMs);
  });

  test('a result serialises to JSON and loads back with the same numbers and its provenance', async () => {
    const r = await explain('bert-cls-op14', { text: 'this film was not good at all', method: 'kernel-shap', budget: 64, seed: 9 });
    const back = JSON.parse(JSON.stringify(r)) as ExplanationResult;
    assert.deepEqual(back.features, r.features);
    assert.deepEqual(back.faithfulness, r.faithfulness);
    assert.deepEqual(back.provenance, r.provenance);
    assert.equal(back.baseValue, r.baseValue);
    for (const key of ['modelSha256', 'tokenizerSha256', 'method', 'budget', 'seed', 'removal', 'level', 'version'] as const) {
      assert.notEqual(back.provenance[key], undefined, key);
    }
  });

  test('token level explains sub-words; special tokens are never features', async () => {
    const r = await explain('bert-cls-op14', { text: 'unbelievably good', method: 'occlusion', level: 'token' });
    assert.ok(r.features.length > 2);
    assert.ok(r.features.every((f) => f.text !== '[CLS]' && f.text !== '[SEP]'));
    assert.equal(r.features.map((f) => f.text).join(''), 'unbelievablygood');
  });

  test('rollout and flow give one share per word from the [CLS] position; the words and special tokens share 1', async () => {
    for (const method of ['rollout', 'flow'] as MethodName[]) {
      const r = await explain('bert-cls-op14', { text: 'this film was not good at all', method });
      assert.equal(r.features.length, 7);
      assert.equal(r.valueKind, 'attention');
      assert.ok(r.features.every((f) => f.value >= 0 && f.value <= 1));
      const words = sum(r.features.map((f) => f.value));
      assert.ok(words > 0.2 && words < 1, `${method}: the words hold ${words}, [CLS] and [SEP] the rest`);
      assert.ok(r.notes.some((n) => n.includes(`hold ${words.toFixed(3)}`) && /sum to 1/.test(n)), r.notes.join(' | '));
    }
  });
});

describe('bad input to explanations', () => {
  async function rejects(name: string, params: ExplainParams, pattern: RegExp): Promise<void> {
    await assert.rejects(explain(name, params), (e: Error) => {
      assert.match(e.message, pattern);
      return true;
    });
  }

  test('a class or token that does not exist is named, with what does', async () => {
    await rejects('bert-cls-op14', { text: 'fine film', method: 'occlusion', target: 7 }, /class "7" does not exist: this model has 2 classes \(0 NEGATIVE, 1 POSITIVE\)/);
    await rejects('bert-cls-op14', { text: 'fine film', method: 'occlusion', target: 'MAYBE' }, /class "MAYBE" does not exist/);
    // A name that is no token is read as text (a target of several tokens); text the vocabulary cannot spell is refused.
    await rejects('bert-mlm-op14', { text: 'the story of [MASK]', method: 'occlusion', target: '☃☃' }, /token "☃☃" is not in the vocabulary \(as text it is "\[UNK\]"\)/);
    await rejects('bert-mlm-op14', { text: 'no mask here', method: 'occlusion' }, /fill-mask model and the text has no \[MASK\]/);
  });

  test('budgets of 0 and 10^9 are clamped and the result says so', async () => {
    const low = await explain('bert-cls-op14', { text: 'this film was not good at all', method: 'kernel-shap', budget: 0 });
    assert.match(low.provenance.budgetNote ?? '', /budget/i);
    const high = await explain('bert-cls-op14', { text: 'this film was not good at all', method: 'partition-shap', budget: 1e9 });
    assert.match(high.provenance.budgetNote ?? '', /budget/i);
    assert.ok(high.provenance.budget <= 100_000);
  });

  test('exact Shapley with no budget asked for says nothing about a budget; one asked for and lowered is named', async () => {
    const text = 'not good at all';
    const unasked = await explain('bert-cls-op14', { text, method: 'exact-shapley' });
    assert.equal(unasked.provenance.budget, 16);
    assert.equal(unasked.provenance.budgetNote, undefined);
    assert.deepEqual(unasked.notes.filter((n) => /budget/.test(n)), []);
    const asked = await explain('bert-cls-op14', { text, method: 'exact-shapley', budget: 5000 });
    assert.match(asked.provenance.budgetNote ?? '', /budget 5000 lowered to 16, the most evaluations exact Shapley can use/);
  });

  test('one word, and only punctuation, still explain; empty text is refused', async () => {
    const one = await explain('bert-cls-op14', { text: 'good', method: 'exact-shapley' });
    assert.equal(one.features.length, 1);
    assert.ok(Math.abs(one.features[0].value - (one.outputValue - one.baseValue)) < 1e-6);
    const punct = await explain('bert-cls-op14', { text: '?!', method: 'exact-shapley' });
    assert.deepEqual(punct.features.map((f) => f.text), ['?', '!']);
    await rejects('bert-cls-op14', { text: '  ', method: 'exact-shapley' }, /text is empty/);
  });

  test('a text longer than the model reads is cut, and the result says how much', async () => {
    const text = Array.from({ length: 120 }, (_, i) => (i % 2 ? 'good' : 'film')).join(' ');
    const r = await explain('bert-cls-op14', { text, method: 'occlusion' });
    assert.equal(r.features.length, 62);
    assert.ok(r.notes.some((n) => /limit of 64 tokens: the last 58 tokens/.test(n)), r.notes.join(' | '));
  });

  test('exact Shapley over more than 14 words says which methods to use', async () => {
    const text = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
    await rejects('bert-cls-op14', { text, method: 'exact-shapley' }, /kernel-shap|partition-shap/);
  });
});
