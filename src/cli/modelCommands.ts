/**
 * The subcommands that run one model: inspect, predict, explain, attention.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AttentionResult, ExplainParams, Level, ModelCard, MethodName, RemovalStrategy } from '../protocol/engineApi';
import { cachedModelPath, isValidRepoId } from '../engine/model/modelCache';
import { buildHtmlReport } from '../render/htmlReport';
import { CommandContext, CommandDefinition, OptionHelp } from './commandSpec';
import { EngineRunner } from './engineRunner';
import { explainLines, lineItems } from './explainLines';
import { CliError, ExitCode } from './exitCodes';
import { readInputText } from './inputText';
import { OutputGuard, checkOutputFile, modelFilesOf, writeOutputFile } from './outputFile';
import { attentionJson, selectAttention, toJson, writeJson } from './jsonOutput';
import { defaultCacheDir, demoModelPath, packageVersion } from './packagePaths';
import { ParsedArgs, UsageError, choiceOption, intOption } from './parseArgs';
import { renderAttention, renderExplanation, renderModelCard, renderPrediction } from './renderText';
import { forTerminal, terminalSafe } from './terminalOutput';

/** Methods the CLI offers (the engine's list). */
export const METHODS: readonly MethodName[] = ['exact-shapley', 'kernel-shap', 'partition-shap', 'lime', 'occlusion', 'occlusion-window', 'rollout', 'flow'];
const REMOVALS: readonly RemovalStrategy[] = ['mask', 'attention', 'delete'];
const LEVELS: readonly Level[] = ['word', 'token'];
const VARIANTS = ['fp32', 'quantized'] as const;

/** `--model` and `--variant`, shared by every command that opens a model. */
export const MODEL_OPTIONS: Record<string, OptionHelp> = {
  model: { type: 'string', value: 'DIR|FILE', help: 'Model folder (config.json, tokenizer.json, *.onnx), one .onnx file, or a cached REPO_ID. Default: the demo model.' },
  variant: { type: 'string', value: 'fp32|quantized', help: 'Which ONNX export of the model to run (default fp32).' },
  json: { type: 'boolean', help: 'Write the result as JSON on standard output.' },
};

const TEXT_OPTIONS: Record<string, OptionHelp> = {
  file: { type: 'string', value: 'F', help: 'Read the text from file F (- for standard input).' },
};

/** `--pair`: the second text of a sentence pair, for the commands that read one input. */
const PAIR_OPTION: Record<string, OptionHelp> = {
  pair: {
    type: 'string',
    value: 'TEXT_B',
    help: 'Second text of a sentence pair (NLI, next sentence, question + passage): encoded after TEXT with the tokenizer\'s pair template, token type 1.',
  },
};

/** The `--pair` text, checked: an empty second text is a mistake, not a single-text run. */
export function pairOf(args: ParsedArgs, command: string): string | undefined {
  const pair = args.options.pair as string | undefined;
  if (pair !== undefined && pair.trim() === '') throw new UsageError('--pair is empty: give the second text of the pair, e.g. --pair "the man is asleep".', command);
  return pair;
}

/** The explain flags, shared with compare (both models are explained the same way). */
export const EXPLAIN_OPTIONS: Record<string, OptionHelp> = {
  method: { type: 'string', value: 'NAME', help: `Attribution method: ${METHODS.join(', ')} (default partition-shap).` },
  budget: { type: 'string', value: 'N', help: 'Model evaluations the method may use (default per method).' },
  seed: { type: 'string', value: 'S', help: 'Random seed; the same seed gives the same numbers (default 0).' },
  target: {
    type: 'string',
    value: 'LABEL|TOKEN',
    help: 'What to explain (default: the prediction): a class label or index; or a token as predictions show it (" g", "##ing"), a vocabulary piece (▁g), id:N, or a word of several tokens.',
  },
  contrast: { type: 'string', value: 'LABEL|TOKEN', help: 'Explain target minus this class/token (difference of logits; single tokens).' },
  position: { type: 'string', value: 'P', help: 'Causal LMs: explain the next token after token P (0-based; default the last token).' },
  mask: { type: 'string', value: 'K', help: 'Fill-mask models: explain the K-th [MASK] of the text (0-based; default 0).' },
  level: { type: 'string', value: 'word|token', help: 'Attribute to whole words (default; contractions like "isn\'t" stay whole) or raw tokens.' },
  punctuation: { type: 'boolean', negatable: true, help: 'Punctuation marks are features of their own (default); --no-punctuation leaves them out: kept in the text, never removed, no value.' },
  removal: { type: 'string', value: 'mask|attention|delete', help: 'How a removed word is taken out (default: by model family).' },
  'output-index': { type: 'string', value: 'K', help: 'Text-to-text models: which generated token to explain (default 0).' },
  window: { type: 'string', value: 'W', help: 'occlusion-window: words per window (default 3).' },
};

/**
 * The model folder a command runs: `--model` as given, a cached repository id, or the demo model.
 * A missing demo model is a model error (exit 2) that says how to point at another model.
 */
export function resolveModelPath(value: string | undefined, ctx: Pick<CommandContext, 'root' | 'env'>): string {
  if (value === undefined) {
    const demo = demoModelPath(ctx.root);
    if (!fs.existsSync(demo)) {
      throw new CliError(`The demo model is not installed (expected ${demo}). Pass --model DIR with a model folder, or download one with: onnx-lens download REPO_ID.`, ExitCode.model);
    }
    return demo;
  }
  if (value.trim() === '') throw new CliError('--model is empty.', ExitCode.badInput);
  if (!fs.existsSync(value) && isValidRepoId(value)) {
    // `owner/name` that is not a local path: a model downloaded earlier into the cache.
    const cached = cachedModelPath(defaultCacheDir(ctx.env), value);
    if (fs.existsSync(cached)) return cached;
    throw new CliError(`No model folder ${value}, and ${value} is not in the model cache; download it with: onnx-lens download ${value}`, ExitCode.model);
  }
  return path.resolve(value);
}

function variantOf(args: ParsedArgs, command: string): string | undefined {
  return choiceOption(args.options.variant, 'variant', VARIANTS, command);
}

/** Runs `body` with an engine, always stopping the engine afterwards. */
export async function withEngine<T>(ctx: CommandContext, body: (runner: EngineRunner) => Promise<T>): Promise<T> {
  const runner = new EngineRunner({
    signal: ctx.signal,
    progress: ctx.progress,
    onLog: ctx.verbose ? (m) => ctx.progress.note(ctx.errStyle.dim(`engine: ${terminalSafe(m)}`)) : undefined,
  });
  try {
    return await body(runner);
  } finally {
    runner.dispose();
  }
}

function write(ctx: CommandContext, text: string): void {
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** The task each model-specific flag applies to: given to another model it would be silently ignored. */
const TASK_FLAGS: { flag: string; key: 'position' | 'mask' | 'outputIndex'; task: ModelCard['task']; models: string }[] = [
  { flag: '--position', key: 'position', task: 'causal-lm', models: 'causal LMs (where the next token is read)' },
  { flag: '--mask', key: 'mask', task: 'masked-lm', models: 'fill-mask models (which [MASK] is filled)' },
  { flag: '--output-index', key: 'outputIndex', task: 'seq2seq', models: 'text-to-text models (which generated token)' },
];

/** Refuses (exit 1) --position, --mask or --output-index given for a model they say nothing about. */
export function refuseFlagsForTask(card: ModelCard, params: Pick<ExplainParams, 'position' | 'mask' | 'outputIndex'>, command: string): void {
  for (const f of TASK_FLAGS) {
    if (params[f.key] !== undefined && card.task !== f.task) {
      throw new UsageError(`${f.flag} applies to ${f.models}; ${card.name} is a ${card.task} model. Leave ${f.flag} out.`, command);
    }
  }
}

/** Reads the explain flags into engine params (text filled in by the caller). */
export function explainParams(args: ParsedArgs, command: string): Omit<ExplainParams, 'text'> {
  const o = args.options;
  const method = choiceOption(o.method, 'method', METHODS, command) ?? 'partition-shap';
  return {
    method,
    budget: intOption(o.budget, 'budget', 1, command),
    seed: intOption(o.seed, 'seed', Number.MIN_SAFE_INTEGER, command),
    target: o.target as string | undefined,
    contrast: o.contrast as string | undefined,
    level: choiceOption(o.level, 'level', LEVELS, command),
    punctuation: o.punctuation === false ? 'omit' : undefined,
    removal: choiceOption(o.removal, 'removal', REMOVALS, command),
    outputIndex: intOption(o['output-index'], 'output-index', 0, command),
    position: intOption(o.position, 'position', 0, command),
    mask: intOption(o.mask, 'mask', 0, command),
    window: intOption(o.window, 'window', 1, command),
  };
}

function textOf(args: ParsedArgs, ctx: CommandContext, command: string): Promise<string> {
  return readInputText({ positionals: args.positionals, file: args.options.file as string | undefined, stdin: ctx.stdin, warn: (m) => ctx.stderr.write(`onnx-lens: warning: ${terminalSafe(m)}\n`) }, command);
}

function noPositionals(args: ParsedArgs, command: string): void {
  if (args.positionals.length) throw new UsageError(`Unexpected argument "${args.positionals[0]}": onnx-lens ${command} takes no TEXT.`, command);
}

/** `onnx-lens inspect`: the model card. */
export const inspectCommand: CommandDefinition = {
  name: 'inspect',
  summary: 'Show the model card: family, task, labels, layers, heads, sizes, inputs and outputs.',
  usage: ['inspect [--model DIR|FILE] [--variant fp32|quantized] [--json]'],
  options: MODEL_OPTIONS,
  async run(args, ctx) {
    noPositionals(args, 'inspect');
    const variant = variantOf(args, 'inspect');
    const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
    const card = await withEngine(ctx, (r) => r.open(modelPath, variant));
    write(ctx, args.options.json ? toJson(card) : renderModelCard(forTerminal(card), ctx.style));
    return ExitCode.ok;
  },
};

/** `onnx-lens predict`: the top candidates for a text. */
export const predictCommand: CommandDefinition = {
  name: 'predict',
  summary: 'Print what the model predicts for a text (top candidates with probabilities).',
  usage: ['predict [--model DIR|FILE] [--top K] [--json] TEXT', 'predict [--model …] --pair TEXT_B TEXT', 'predict [--model …] --file F', 'echo TEXT | onnx-lens predict'],
  options: { ...MODEL_OPTIONS, ...TEXT_OPTIONS, ...PAIR_OPTION, top: { type: 'string', value: 'K', help: 'How many candidates to show (default 10).' } },
  details: 'A classifier shows its classes, a masked LM the candidates for [MASK] (or <mask>), a causal LM the next token, a text-to-text model the generated text.',
  async run(args, ctx) {
    const top = intOption(args.options.top, 'top', 1, 'predict') ?? 10;
    const variant = variantOf(args, 'predict');
    const textPair = pairOf(args, 'predict');
    const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
    const text = await textOf(args, ctx, 'predict');
    const prediction = await withEngine(ctx, async (r) => {
      await r.open(modelPath, variant);
      return r.request('predict', { text, textPair, topK: top }, 'Predicting');
    });
    write(ctx, args.options.json ? toJson(prediction) : renderPrediction(forTerminal(prediction), ctx.style, top));
    return ExitCode.ok;
  },
};

/** `onnx-lens explain`: attributions, faithfulness and convergence; optional HTML report. */
export const explainCommand: CommandDefinition = {
  name: 'explain',
  summary: 'Explain which words drove the prediction (SHAP, LIME, occlusion, attention rollout/flow).',
  usage: [
    'explain [--model DIR|FILE] [--method NAME] [--budget N] [--seed S] [--target LABEL|TOKEN] [--contrast LABEL|TOKEN] [--level word|token] [--removal mask|attention|delete] [--json] [--html FILE] TEXT',
    'explain [--model …] --lines [--json] --file F      (one text per line; JSONL out with --json)',
    'explain [--model …] --jsonl < texts.jsonl          (one {"text": …} per line in, one result per line out)',
    'explain [--model DIR|FILE] [options] --pair TEXT_B TEXT',
  ],
  options: {
    ...MODEL_OPTIONS,
    ...TEXT_OPTIONS,
    ...PAIR_OPTION,
    ...EXPLAIN_OPTIONS,
    html: { type: 'string', value: 'FILE', help: 'Also write a self-contained HTML report (no network, no scripts) to FILE.' },
    force: { type: 'boolean', help: 'Let --html replace an existing file (never a file of the model).' },
    lines: { type: 'boolean', help: 'Explain each non-empty line of --file F (or standard input) as its own text, all in one engine.' },
    jsonl: { type: 'boolean', help: 'Like --lines, reading one JSON object per line ({"text", and optionally "id", "target", "contrast", "mask", "position", "outputIndex"}) and writing one result per line.' },
  },
  details:
    'Values are in logit units: positive pushes toward the explained output, negative against it. For exact-shapley\n' +
    'and the SHAP methods the values add up to output − base value. Faithfulness (comprehensiveness, sufficiency)\n' +
    'and a convergence estimate say how far to trust the numbers.\n\n' +
    'A target of several tokens (a word the vocabulary splits, e.g. --target " moviegoers") is explained as the sum\n' +
    'of its tokens\' log-probabilities, each read after the ones before it (teacher-forced); the values still add up.\n' +
    'The output says which token(s) the target named.\n\n' +
    '--lines and --jsonl explain a file of texts in one process: the engine and the model start once. With --json\n' +
    '(always with --jsonl) each result is one line of JSON: {"line": N, "id"?, …the explanation} or {"line": N, "error"}.\n' +
    'A line that cannot be explained is reported and the others go on; the exit code is then 1.\n\n' +
    'With --pair, the words of both texts are explained together; each feature says which text it is in\n' +
    '(JSON: "segment" 0 for TEXT, 1 for TEXT_B).',
  async run(args, ctx) {
    const params = explainParams(args, 'explain');
    const variant = variantOf(args, 'explain');
    const html = args.options.html as string | undefined;
    if (html !== undefined && html.trim() === '') throw new UsageError('--html needs a file name.', 'explain');
    const textPair = pairOf(args, 'explain');
    const jsonl = Boolean(args.options.jsonl);
    if (jsonl || args.options.lines) {
      if (jsonl && args.options.lines) throw new UsageError('Give --lines or --jsonl, not both.', 'explain');
      if (textPair !== undefined) throw new UsageError('--pair explains one pair; it does not go with --lines or --jsonl.', 'explain');
      if (html !== undefined) throw new UsageError('--html writes one report; it does not go with --lines or --jsonl.', 'explain');
      if (args.positionals.length) throw new UsageError('With --lines or --jsonl the texts come from --file F or standard input, not from TEXT.', 'explain');
      const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
      const items = lineItems(await textOf(args, ctx, 'explain'), jsonl);
      return withEngine(ctx, async (r) => {
        refuseFlagsForTask(await r.open(modelPath, variant), params, 'explain');
        return explainLines(r, items, params, ctx, jsonl || Boolean(args.options.json));
      });
    }
    const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
    const guard: OutputGuard = { flag: '--html', force: Boolean(args.options.force), protectedFiles: modelFilesOf(modelPath) };
    // Refuse before any work: the report may not replace the model, nor an existing file without --force.
    if (html !== undefined) checkOutputFile(html, guard);
    const text = await textOf(args, ctx, 'explain');
    const { result, attention } = await withEngine(ctx, async (r) => {
      const card = await r.open(modelPath, variant);
      refuseFlagsForTask(card, params, 'explain');
      guard.protectedFiles = modelFilesOf(card.path, card.files.map((f) => f.path));
      const result = await r.request('explain', { ...params, text, textPair }, 'Explaining');
      // The report also shows the last layer's attention; a model that hides it still gets a report.
      let attention: AttentionResult | undefined;
      if (html !== undefined) attention = await r.request('attention', { text, textPair, hidden: false }, 'Reading attention').catch(() => undefined);
      return { result, attention };
    });
    if (html !== undefined) {
      writeOutputFile(html, buildHtmlReport(result, attention, { generator: packageVersion(ctx.root) }), guard);
      if (!args.options.quiet) ctx.stderr.write(`Report written to ${terminalSafe(html)}\n`);
    }
    write(ctx, args.options.json ? toJson(result) : renderExplanation(forTerminal(result), ctx.style));
    return ExitCode.ok;
  },
};

/** Parses `--ids 101,2023,102` into token ids; throws CliError (exit 1) for anything else. */
export function parseIds(value: string): number[] {
  const parts = value.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new CliError('--ids is empty: give token ids separated by commas, e.g. --ids 101,2023,102.', ExitCode.badInput);
  return parts.map((p) => {
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(Number(p))) {
      throw new CliError(`--ids: "${p}" is not a token id (ids are whole numbers ≥ 0, separated by commas).`, ExitCode.badInput);
    }
    return Number(p);
  });
}

/** `onnx-lens attention`: attention per layer and head (and hidden states in JSON), from text or ids. */
export const attentionCommand: CommandDefinition = {
  name: 'attention',
  summary: 'Show where each attention head looks, per layer; --json gives every matrix and hidden state.',
  usage: [
    'attention [--model DIR|FILE] [--layer L] [--head H] [--json] [--no-hidden] TEXT',
    'attention [--model …] --pair TEXT_B TEXT',
    'attention [--model …] --ids 101,2023,102',
  ],
  details:
    'With --pair, tokens carry the text they belong to (JSON: "segment" 0 or 1), and a table (JSON: "acrossPair")\n' +
    'gives, per layer and head, the mean share of a token\'s attention that goes to the other text (A → B, B → A).',
  options: {
    ...MODEL_OPTIONS,
    ...TEXT_OPTIONS,
    ...PAIR_OPTION,
    layer: { type: 'string', value: 'L', help: 'Only layer L (0-based; in every stack of a text-to-text model). Default text view: the last layer.' },
    head: { type: 'string', value: 'H', help: 'Only head H (0-based). Default text view: the mean of the heads.' },
    ids: { type: 'string', value: 'IDS', help: 'Exact token ids (comma-separated) instead of TEXT; no tokenizer step, no special tokens added.' },
    hidden: { type: 'boolean', negatable: true, help: 'Include hidden states in --json (default on; --no-hidden omits them).' },
  },
  async run(args, ctx) {
    const layer = intOption(args.options.layer, 'layer', 0, 'attention');
    const head = intOption(args.options.head, 'head', 0, 'attention');
    const variant = variantOf(args, 'attention');
    const idsFlag = args.options.ids as string | undefined;
    if (idsFlag !== undefined && (args.positionals.length || args.options.file !== undefined)) {
      throw new UsageError('Give either --ids or a TEXT, not both.', 'attention');
    }
    const textPair = pairOf(args, 'attention');
    if (idsFlag !== undefined && textPair !== undefined) throw new UsageError('Give either --ids or a sentence pair (TEXT and --pair), not both.', 'attention');
    const ids = idsFlag !== undefined ? parseIds(idsFlag) : undefined;
    const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
    const text = ids ? undefined : await textOf(args, ctx, 'attention');
    const hidden = args.options.hidden !== false && Boolean(args.options.json);
    const result = await withEngine(ctx, async (r) => {
      await r.open(modelPath, variant);
      return r.request('attention', ids ? { ids, hidden } : { text, textPair, hidden }, 'Running with attention exposed');
    });
    // Validate --layer/--head before printing anything, so a typo is an error, not an empty result.
    selectAttention(result.attentions, layer, head);
    if (args.options.json) writeJson(attentionJson(result, { layer, head, hidden }), (piece) => ctx.stdout.write(piece));
    else write(ctx, renderAttention(forTerminal(result), { layer, head }, ctx.style));
    return ExitCode.ok;
  },
};
