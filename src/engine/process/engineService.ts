import type { EngineApi, EngineMethod } from '../../protocol/engineApi';
import { explainText } from '../explain/explainText';
import { generateText } from '../generate/generateText';
import { explainGeneration } from '../generate/generationMatrix';
import { activations } from '../inspect/activations';
import { compareModels } from '../inspect/compareModels';
import { datasetRun } from '../inspect/datasetRun';
import { headImportance } from '../inspect/headImportance';
import { logitLens } from '../inspect/logitLens';
import { robustness } from '../inspect/robustness';
import { LoadedModel } from '../model/loadedModel';
import { applyRemoval } from '../run/inputVariants';
import { refuseOverMemory } from '../run/memoryBudget';
import { logitsExtractor } from '../run/outputReaders';
import { predictPrepared } from '../run/predict';
import { BadInputError } from './engineErrors';
import type { RequestContext } from './requestContext';

type Handler<M extends EngineMethod> = (params: EngineApi[M]['params'], ctx: RequestContext) => Promise<EngineApi[M]['result']>;

/**
 * The engine's request handlers around the one open model. Usable in-process (tests, benchmarks)
 * and behind the engine process's message loop.
 */
export class EngineService {
  private model: LoadedModel | undefined;

  constructor(private readonly log: (message: string) => void = () => undefined) {}

  get current(): LoadedModel | undefined {
    return this.model;
  }

  private requireModel(): LoadedModel {
    if (!this.model) throw new BadInputError('No model is open. Open a model folder (or use the demo model) first.');
    return this.model;
  }

  private readonly handlers: { [M in EngineMethod]: Handler<M> } = {
    open: async (p) => {
      const started = Date.now();
      const model = await LoadedModel.open(p.modelPath, p.variant, p.options ?? {});
      this.model?.dispose();
      this.model = model;
      this.log(`opened ${model.card.name} (${model.card.family}, ${model.card.task}, ${model.card.variant}) in ${Date.now() - started} ms`);
      return model.card;
    },
    tokenize: async (p) => (await this.requireModel().prepare(p.text, p.textPair)).encoded,
    predict: async (p) => {
      const model = this.requireModel();
      return predictPrepared(model, await model.prepare(p.text, p.textPair), p.topK ?? 10);
    },
    attention: async (p) => {
      const model = this.requireModel();
      if (p.ids && p.textPair !== undefined) throw new BadInputError('Give either token ids or a sentence pair, not both: ids are read as they are, with no second text.');
      const input = p.ids ? await model.prepareIds(p.ids) : await model.prepare(p.text ?? '', p.textPair);
      const exposed = await model.runExposed(input);
      return {
        encoded: input.encoded,
        attentions: exposed.attentions,
        hiddenStates: p.hidden === false ? [] : exposed.hiddenStates,
        note: exposed.note,
      };
    },
    explain: async (p, ctx) => {
      const started = Date.now();
      const result = await explainText(this.requireModel(), p, ctx);
      this.log(`explain ${p.method}: ${result.features.length} features, ${result.evaluations} evaluations, ${Date.now() - started} ms`);
      return result;
    },
    evaluate: async (p, ctx) => {
      const model = this.requireModel();
      const input = await model.prepare(p.text);
      const base = input.baseInput(new Set());
      const width = model.card.labels?.length || Math.max(1, model.card.vocabSize.value);
      refuseOverMemory(
        `Evaluating ${p.keep.length.toLocaleString('en-US')} variants with ${width.toLocaleString('en-US')} logits each`,
        p.keep.length * (2 * 4 * width + 40 * input.encoding.ids.length + 200),
        model.memoryLimit,
        'Send fewer variants per request.',
      );
      const rows = p.keep.map((k) => applyRemoval(base, k, p.removal));
      const r = await model.evaluatorFor(input).evaluate(rows, logitsExtractor(input.readSpec(undefined)), {
        isCancelled: ctx.isCancelled,
        onProgress: (done, total) => ctx.progress({ done, total }),
      });
      return { logits: r.values, distinctRuns: r.distinctRuns, batches: r.batches };
    },
    activations: async (p) => activations(this.requireModel(), p),
    logitLens: async (p) => logitLens(this.requireModel(), p),
    headImportance: async (p, ctx) => headImportance(this.requireModel(), p, ctx),
    compareModels: async (p, ctx) => compareModels(this.requireModel(), p, ctx),
    robustness: async (p, ctx) => robustness(this.requireModel(), p, ctx),
    datasetRun: async (p, ctx) => {
      const started = Date.now();
      const result = await datasetRun(this.requireModel(), p, ctx);
      this.log(`dataset run: ${result.examples} examples in ${Date.now() - started} ms (${result.examplesPerSecond.toFixed(1)} per second)`);
      return result;
    },
    generate: async (p, ctx) => {
      const result = await generateText(this.requireModel(), p, ctx);
      this.log(`generate: ${result.tokens.length} tokens (${result.stopReason}, cache ${result.cache}) in ${result.timing.totalMs} ms, ${result.timing.tokensPerSecond.toFixed(1)} tokens/s`);
      return result;
    },
    explainGeneration: async (p, ctx) => {
      const started = Date.now();
      const result = await explainGeneration(this.requireModel(), p, ctx);
      this.log(`explain generation ${result.method}: ${result.features.length} features × ${result.tokens.length} tokens, ${result.evaluations} evaluations, ${Date.now() - started} ms`);
      return result;
    },
    crash: async () => {
      process.kill(process.pid, 'SIGKILL');
      throw new Error('unreachable');
    },
  };

  async handle<M extends EngineMethod>(method: M, params: EngineApi[M]['params'], ctx: RequestContext): Promise<EngineApi[M]['result']> {
    const handler = this.handlers[method] as Handler<M> | undefined;
    if (!handler) throw new BadInputError(`Unknown engine request "${String(method)}".`);
    return handler(params, ctx);
  }

  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
  }
}
