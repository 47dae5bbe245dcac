import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generationHoverMarkdown } from '../../../src/ui/editor/generationHoverText';
import type { GenerationExplanation } from '../../../src/protocol/engineApi';

/** An explanation of 3 generated tokens over the prompt "not very good", values chosen by hand. */
function explanation(): GenerationExplanation {
  const target = (values: number[]) => ({ values, baseValue: -5, outputValue: -5 + values.reduce((a, b) => a + b, 0), convergence: { max: 0, kind: 'exact', final: true } });
  return {
    kind: 'generation-explanation',
    prompt: 'not very good',
    chat: false,
    features: [
      { text: 'not', start: 0, end: 3, tokenIndices: [1] },
      { text: 'very', start: 4, end: 8, tokenIndices: [2] },
      { text: 'good', start: 9, end: 13, tokenIndices: [3] },
    ],
    tokens: [
      { id: 1, label: ' at', logprob: -1 },
      { id: 2, label: ' all', logprob: -0.5 },
      { id: 3, label: '**bold**', logprob: -2 },
    ],
    value: 'log-probability',
    targets: [target([1.5, 0.1, -0.2]), target([0.4, 0, 0.3]), target([-0.9, 0.2, 0.1])],
    sequence: target([1.0, 0.3, 0.2]),
    method: 'kernel-shap',
    evaluations: 8,
    batches: 1,
    provenance: {} as GenerationExplanation['provenance'],
    notes: [],
  };
}

describe('the hover on a prompt word after Generate and Explain', () => {
  test('says what the word did to the token shown, and which tokens it raised and lowered most', () => {
    const md = generationHoverMarkdown(explanation(), 0, 1, 'command:onnxLens.showPanel?x');
    const lines = md.split('\n').filter((l) => l);
    assert.equal(lines[0], '**ONNX Lens** · _not_ → what it did to the next tokens');
    assert.equal(lines[1], '+0.400 to the log-probability of token 1 “␣all” (kernel\\-shap)');
    assert.equal(lines[2], 'Raised most: “␣at” +1.50, “␣all” +0.400');
    assert.equal(lines[3], 'Lowered most: “\\*\\*bold\\*\\*” −0.900');
    assert.equal(lines[4], "Over the 3 generated tokens: +1.00 to the continuation's log-probability.");
    assert.equal(lines[5], '[Open the Generation tab](command:onnxLens.showPanel?x)');
  });

  test('with the whole continuation shown, its value is the sequence’s', () => {
    const md = generationHoverMarkdown(explanation(), 2, -1);
    assert.match(md, /^\+0\.200 to the log-probability of the whole continuation \(kernel\\-shap\)$/m);
    assert.doesNotMatch(md, /Open the Generation tab/);
  });
});
