import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { floatToHalf, halfToFloat } from '../../../src/engine/model/float16';
import { generationFixture } from '../../support/fixtureModels';
import { openService, recordingContext } from '../../support/engineService';

describe('float16 models', () => {
  test('numbers convert to and from IEEE half precision as the standard encodes them', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [6e-8, 0x0001],
      [1e-8, 0x0000],
      [Infinity, 0x7c00],
      [70000, 0x7c00],
      [0.5 + 2 ** -12, 0x3800], // a tie rounds to the even mantissa
    ];
    for (const [value, bits] of cases) assert.equal(floatToHalf(value), bits, `${value}`);
    assert.equal(halfToFloat(0x3555), 0.333251953125);
    assert.equal(halfToFloat(0x0001), 2 ** -24);
    assert.ok(Number.isNaN(halfToFloat(floatToHalf(Number.NaN))));
  });

  test('an fp16 export with past inputs predicts and explains like its fp32 export', async () => {
    const text = 'i loved this place and the food';
    const results = [];
    for (const variant of ['fp32', 'fp16']) {
      const service = await openService({ modelPath: generationFixture('llama-gen'), variant, options: { threads: 1 } });
      const p = await service.handle('predict', { text }, recordingContext());
      const e = await service.handle('explain', { text, method: 'occlusion' }, recordingContext());
      results.push({ p, e });
      service.dispose();
    }
    const [fp32, fp16] = results;
    assert.equal(fp16.p.candidates[0].id, fp32.p.candidates[0].id);
    assert.ok(Math.abs(fp16.p.candidates[0].logit - fp32.p.candidates[0].logit) < 0.03);
    fp32.e.features.forEach((f, i) => assert.ok(Math.abs(fp16.e.features[i].value - f.value) < 0.05, `${f.text}: ${fp16.e.features[i].value} vs ${f.value}`));
  });
});
