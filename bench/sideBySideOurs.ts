/**
 * ONNX Lens's side of `bench/shap_lime_side_by_side.py`: each sentence of a JSON list explained on the demo model
 * (or MODEL_DIR) in process — Partition SHAP at budget 500 and LIME at 5,000 samples, POSITIVE logit, from a cold
 * evaluator cache — printed as one JSON line per sentence: token ids, logits, words, each method's word values and
 * its wall and CPU seconds for the whole explain request.
 *
 *   node out/bench/sideBySideOurs.js SENTENCES.json [MODEL_DIR]
 */
import * as fs from 'node:fs';
import { DEMO_MODEL } from '../test/support/fixtureModels';
import { cpuNow, now } from './common';
import { openService, QUIET } from '../test/support/engineService';

async function main(): Promise<void> {
  const [file, modelDir = DEMO_MODEL] = process.argv.slice(2);
  if (!file) throw new Error('usage: node out/bench/sideBySideOurs.js SENTENCES.json [MODEL_DIR]');
  const sentences = JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
  const service = await openService({ modelPath: modelDir });
  const model = service.current!;
  const explain = async (text: string, method: 'partition-shap' | 'lime', budget: number) => {
    model.evaluatorFor(await model.prepare(text)).clearCache();
    const c = cpuNow();
    const t = now();
    const r = await service.handle('explain', { text, method, budget, target: 'POSITIVE', seed: 0 }, QUIET);
    return { values: r.features.map((f) => f.value), seconds: (now() - t) / 1000, cpuSeconds: (cpuNow() - c) / 1000, evaluations: r.evaluations, words: r.features.map((f) => ({ text: f.text, start: f.start, end: f.end })) };
  };
  await explain(sentences[0], 'partition-shap', 500); // warm-up: sessions and code paths
  for (const text of sentences) {
    const input = await model.prepare(text);
    const prediction = await service.handle('predict', { text }, QUIET);
    const partition = await explain(text, 'partition-shap', 500);
    const lime = await explain(text, 'lime', 5001);
    const logits = [0, 1].map((id) => prediction.candidates.find((c) => c.id === id)!.logit);
    process.stdout.write(`${JSON.stringify({ text, ids: input.encoding.ids, logits, words: partition.words, partition, lime })}\n`);
  }
  service.dispose();
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
