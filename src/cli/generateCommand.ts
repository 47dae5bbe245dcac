/**
 * `onnx-lens generate`: continue a prompt with a causal LM, streaming the text as it comes, and with
 * --explain attribute every generated token to the prompt's words.
 */
import type { GenerateParams, GenerationExplainParams, GenerationExplanation, GenerationProgress, GenerationResult, Level, MethodName, RemovalStrategy } from '../protocol/engineApi';
import { buildGenerationReport } from '../render/generationReport';
import type { CommandDefinition } from './commandSpec';
import { ExitCode } from './exitCodes';
import { readInputText } from './inputText';
import { toJson } from './jsonOutput';
import { MODEL_OPTIONS, resolveModelPath, withEngine } from './modelCommands';
import { OutputGuard, checkOutputFile, modelFilesOf, writeOutputFile } from './outputFile';
import { packageVersion } from './packagePaths';
import { UsageError, choiceOption, intOption } from './parseArgs';
import { generationSummary, renderGeneration, renderGenerationMatrix } from './renderGeneration';
import { forTerminal, terminalSafe } from './terminalOutput';

const METHODS: readonly MethodName[] = ['occlusion', 'kernel-shap', 'partition-shap', 'exact-shapley', 'lime', 'occlusion-window'];

function numberOption(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (String(value).trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, not "${String(value)}".`, 'generate');
  return n;
}

export const generateCommand: CommandDefinition = {
  name: 'generate',
  summary: 'Continue a prompt with a causal LM (KV cache, greedy or sampled); --explain attributes each token to the prompt.',
  usage: [
    'generate [--model DIR|FILE] [--max-new-tokens N] [--sample --temperature T --top-k K --top-p P --seed S] [--stop TEXT]… [--chat] [--no-cache] PROMPT',
    'generate … --explain [--method NAME] [--budget N] [--contrast-step K [--contrast TOKEN]] [--json] [--html FILE [--force]] PROMPT',
  ],
  options: {
    ...MODEL_OPTIONS,
    variant: { type: 'string', value: 'NAME', help: 'Which export to run: fp32 (default), quantized, fp16, q4, … (the file-name suffix).' },
    file: { type: 'string', value: 'F', help: 'Read the prompt from file F (- for standard input).' },
    'max-new-tokens': { type: 'string', value: 'N', help: 'Most tokens to generate (default 32).' },
    sample: { type: 'boolean', help: 'Draw each token from the distribution instead of taking the most probable one.' },
    temperature: { type: 'string', value: 'T', help: 'Sampling temperature > 0 (default 1).' },
    'top-k': { type: 'string', value: 'K', help: 'Sample among the K most probable tokens only (default: all).' },
    'top-p': { type: 'string', value: 'P', help: 'Sample among the most probable tokens that together reach probability P (default 1).' },
    seed: { type: 'string', value: 'S', help: 'Seed of the sampler and of the explainer (default 0).' },
    stop: { type: 'string', multiple: true, value: 'TEXT', help: 'Stop once the continuation contains TEXT (repeatable).' },
    chat: { type: 'boolean', help: 'Wrap the prompt in the tokenizer’s chat template as a user message (plain text when it has none).' },
    cache: { type: 'boolean', negatable: true, help: 'Carry the key/value cache between steps (default); --no-cache recomputes the whole sequence per token.' },
    explain: { type: 'boolean', help: 'Also explain each generated token: prompt words × tokens, with attention and logit lens per position.' },
    method: { type: 'string', value: 'NAME', help: `With --explain: ${METHODS.join(', ')} (default occlusion).` },
    budget: { type: 'string', value: 'N', help: 'With --explain: model evaluations (coalitions of prompt words) for each token; the tokens share their rows, so exact Shapley and kernel-shap run at most N in all, partition-shap (which refines each token on its own) up to N per token and the whole continuation.' },
    level: { type: 'string', value: 'word|token', help: 'With --explain: attribute to prompt words (default) or tokens.' },
    removal: { type: 'string', value: 'delete|attention', help: 'With --explain: how a prompt word is taken out (default delete).' },
    'contrast-step': { type: 'string', value: 'K', help: 'With --explain: also explain why token K and not --contrast (default: the runner-up).' },
    contrast: { type: 'string', value: 'TOKEN', help: 'With --contrast-step: the alternative token.' },
    html: { type: 'string', value: 'FILE', help: 'Write a self-contained HTML report (implies --explain).' },
    force: { type: 'boolean', help: 'Let --html replace an existing file (never a file of the model).' },
  },
  details:
    'The continuation streams to standard output as it is generated (with --json, only the final JSON is written).\n' +
    'Ctrl-C stops the generation between two tokens: what was generated is printed (and explained with --explain)\n' +
    'and the exit code is 130. The attribution values are changes of each token’s log-probability. With the SHAP\n' +
    'methods they add up, per token, to log p with the whole prompt minus log p with no prompt words; occlusion\n' +
    '(the default) gives each word alone, and LIME a linear fit: their values need not add up.',
  async run(args, ctx) {
    const o = args.options;
    const html = o.html as string | undefined;
    if (html !== undefined && html.trim() === '') throw new UsageError('--html needs a file name.', 'generate');
    const explain = Boolean(o.explain) || html !== undefined;
    const contrastStep = intOption(o['contrast-step'], 'contrast-step', 0, 'generate');
    if (o.contrast !== undefined && contrastStep === undefined) throw new UsageError('--contrast needs --contrast-step K (which generated token to contrast).', 'generate');
    const params: Omit<GenerateParams, 'prompt'> = {
      maxNewTokens: intOption(o['max-new-tokens'], 'max-new-tokens', 1, 'generate'),
      strategy: o.sample ? 'sample' : 'greedy',
      temperature: numberOption(o.temperature, 'temperature'),
      topK: intOption(o['top-k'], 'top-k', 0, 'generate'),
      topP: numberOption(o['top-p'], 'top-p'),
      seed: intOption(o.seed, 'seed', Number.MIN_SAFE_INTEGER, 'generate'),
      stop: o.stop as string[] | undefined,
      chat: Boolean(o.chat),
      useCache: o.cache !== false,
    };
    if (!o.sample && (params.temperature !== undefined || params.topK !== undefined || params.topP !== undefined)) {
      throw new UsageError('--temperature, --top-k and --top-p shape sampling: add --sample.', 'generate');
    }
    const explainOnly = ['method', 'budget', 'level', 'removal', 'contrast-step', 'contrast'].filter((name) => o[name] !== undefined);
    if (!explain && explainOnly.length) {
      throw new UsageError(`${explainOnly.map((n) => `--${n}`).join(', ')} shape the explanation: add --explain (or --html).`, 'generate');
    }
    const explainParams: Omit<GenerationExplainParams, 'prompt' | 'generated'> = {
      method: choiceOption(o.method, 'method', METHODS, 'generate'),
      budget: intOption(o.budget, 'budget', 1, 'generate'),
      seed: params.seed,
      level: choiceOption(o.level, 'level', ['word', 'token'] as readonly Level[], 'generate'),
      removal: choiceOption(o.removal, 'removal', ['delete', 'attention'] as readonly RemovalStrategy[], 'generate'),
      chat: params.chat,
      ...(contrastStep !== undefined ? { contrast: { step: contrastStep, token: o.contrast as string | undefined } } : {}),
    };
    const modelPath = resolveModelPath(o.model as string | undefined, ctx);
    const guard: OutputGuard = { flag: '--html', force: Boolean(o.force), protectedFiles: modelFilesOf(modelPath) };
    // Refuse before any work: the report may not replace the model, nor an existing file without --force.
    if (html !== undefined) checkOutputFile(html, guard);
    const prompt = await readInputText({ positionals: args.positionals, file: o.file as string | undefined, stdin: ctx.stdin }, 'generate');
    const json = Boolean(o.json);
    let streamed = '';
    const { generation, explanation } = await withEngine(ctx, async (r) => {
      const card = await r.open(modelPath, o.variant as string | undefined);
      guard.protectedFiles = modelFilesOf(card.path, card.files.map((f) => f.path));
      // The prompt is echoed once the first token comes, so a refused request leaves standard output empty.
      let promptShown = json;
      const showPrompt = () => {
        if (!promptShown) ctx.stdout.write(terminalSafe(prompt));
        promptShown = true;
      };
      const generation: GenerationResult = await r.request('generate', { ...params, prompt }, 'Generating', { progress: (p) => {
        const partial = p.partial as GenerationProgress | undefined;
        if (json || !partial) return;
        ctx.progress.clear();
        showPrompt();
        // Write what the new token settled; a byte-fallback token may complete a character later.
        if (partial.text.startsWith(streamed)) {
          ctx.stdout.write(ctx.style.bold(terminalSafe(partial.text.slice(streamed.length))));
          streamed = partial.text;
        }
      } });
      if (!json) {
        showPrompt();
        // Generated text is the model's: its control characters never reach the terminal.
        if (generation.text.startsWith(streamed)) ctx.stdout.write(ctx.style.bold(terminalSafe(generation.text.slice(streamed.length))));
        else ctx.stdout.write(`\n${renderGeneration(forTerminal(generation), ctx.style)}`);
        ctx.stdout.write('\n');
        if (!o.quiet) ctx.stderr.write(`${generationSummary(forTerminal(generation), ctx.errStyle)}\n`);
      }
      let explanation: GenerationExplanation | undefined;
      if (explain && generation.tokens.length > 0 && !ctx.signal.aborted) {
        explanation = await r.request('explainGeneration', { ...explainParams, prompt, generated: generation.tokens.map((t) => t.id) }, 'Explaining each token');
      }
      return { generation, explanation };
    });
    if (html !== undefined) {
      writeOutputFile(html, buildGenerationReport(generation, explanation, { generator: packageVersion(ctx.root) }), guard);
      if (!o.quiet) ctx.stderr.write(`Report written to ${html}\n`);
    }
    if (json) ctx.stdout.write(`${toJson(explanation ? { generation, explanation } : { generation })}\n`);
    else if (explanation) ctx.stdout.write(`\n${renderGenerationMatrix(forTerminal(explanation), ctx.style, (ctx.stdout as { columns?: number }).columns ?? 100)}\n`);
    return generation.stopReason === 'cancelled' || ctx.signal.aborted ? ExitCode.interrupted : ExitCode.ok;
  },
};
