/**
 * The subcommands that look inside one model: activations, logit-lens, heads, robustness, dataset.
 * Each is one engine request; text output for people, `--json` the engine's result as it is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetFormat, DatasetResult, MethodName, PerturbationKind } from '../protocol/engineApi';
import { datasetCsv } from '../render/datasetCsv';
import { CommandContext, CommandDefinition, OptionHelp } from './commandSpec';
import { CliError, ExitCode } from './exitCodes';
import { readInputText } from './inputText';
import { OutputGuard, checkOutputFile, modelFilesOf, writeOutputFile } from './outputFile';
import { toJson } from './jsonOutput';
import { METHODS, MODEL_OPTIONS, parseIds, resolveModelPath, withEngine } from './modelCommands';
import { ParsedArgs, UsageError, choiceOption, intOption } from './parseArgs';
import { renderActivations, renderDataset, renderHeadImportance, renderLogitLens, renderRobustness } from './renderInside';
import { forTerminal, terminalSafe } from './terminalOutput';

const VARIANTS = ['fp32', 'quantized'] as const;
const PERTURBATIONS: readonly PerturbationKind[] = ['delete', 'swap', 'insert', 'synonym', 'char-noise'];
const EXPLAIN_METHODS: readonly (MethodName | 'none')[] = [...METHODS.filter((m) => m !== 'rollout' && m !== 'flow'), 'none'];

const TEXT_OPTIONS: Record<string, OptionHelp> = {
  file: { type: 'string', value: 'F', help: 'Read the text from file F (- for standard input).' },
};
const IDS_OPTION: Record<string, OptionHelp> = {
  ids: { type: 'string', value: 'IDS', help: 'Exact token ids (comma-separated) instead of TEXT; no special tokens added.' },
};
const TARGET_OPTIONS: Record<string, OptionHelp> = {
  target: { type: 'string', value: 'LABEL|TOKEN', help: 'What to measure: a class label or index, or a vocabulary token (default: the prediction).' },
  contrast: { type: 'string', value: 'LABEL|TOKEN', help: 'Measure target minus this class/token (difference of logits).' },
};

function write(ctx: CommandContext, text: string): void {
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function variantOf(args: ParsedArgs, command: string): string | undefined {
  return choiceOption(args.options.variant, 'variant', VARIANTS, command);
}

/** TEXT (argument, --file or standard input) or --ids, never both. */
async function textOrIds(args: ParsedArgs, ctx: CommandContext, command: string): Promise<{ text?: string; ids?: number[] }> {
  const idsFlag = args.options.ids as string | undefined;
  if (idsFlag !== undefined) {
    if (args.positionals.length || args.options.file !== undefined) throw new UsageError('Give either --ids or a TEXT, not both.', command);
    return { ids: parseIds(idsFlag) };
  }
  return { text: await readInputText({ positionals: args.positionals, file: args.options.file as string | undefined, stdin: ctx.stdin, warn: (m) => ctx.stderr.write(`onnx-lens: warning: ${terminalSafe(m)}\n`) }, command) };
}

function readText(args: ParsedArgs, ctx: CommandContext, command: string): Promise<string> {
  return readInputText({ positionals: args.positionals, file: args.options.file as string | undefined, stdin: ctx.stdin, warn: (m) => ctx.stderr.write(`onnx-lens: warning: ${terminalSafe(m)}\n`) }, command);
}

/**
 * Parses `--prune 0:1,2:3` into [layer, head] pairs (0-based). Throws CliError (exit 1) for
 * anything else, saying what the form is.
 */
export function parseHeadList(value: string): [number, number][] {
  const parts = value.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new CliError('--prune is empty: give heads as LAYER:HEAD pairs separated by commas, e.g. --prune 0:1,2:3.', ExitCode.badInput);
  const seen = new Set<string>();
  const out: [number, number][] = [];
  for (const p of parts) {
    const m = /^(\d+):(\d+)$/.exec(p);
    if (!m) throw new CliError(`--prune: "${p}" is not LAYER:HEAD (0-based whole numbers, e.g. 0:1).`, ExitCode.badInput);
    const key = `${Number(m[1])}:${Number(m[2])}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([Number(m[1]), Number(m[2])]);
  }
  return out;
}

/** `onnx-lens activations`: hidden-state norms and layer updates per token, and a token's top units. */
export const activationsCommand: CommandDefinition = {
  name: 'activations',
  summary: 'Show the residual stream: hidden-state norms and each layer’s update per token, and the most active units.',
  usage: ['activations [--model DIR|FILE] [--layer S] [--token T] [--top N] [--stack encoder|decoder] [--json] TEXT', 'activations [--model …] --ids 101,2023,102'],
  options: {
    ...MODEL_OPTIONS,
    ...TEXT_OPTIONS,
    ...IDS_OPTION,
    layer: { type: 'string', value: 'S', help: 'Hidden state whose top units are listed (0 = embeddings, L = after the last layer; default L).' },
    token: { type: 'string', value: 'T', help: 'Token whose top units are listed (0-based; default 0).' },
    top: { type: 'string', value: 'N', help: 'How many units to list (default 10).' },
    stack: { type: 'string', value: 'encoder|decoder', help: 'Text-to-text models: which residual stream (default encoder).' },
  },
  details: '--json writes norms[i][t], updates[i][t] = ‖h_{i+1}[t] − h_i[t]‖, relativeUpdates and the top units (ActivationsResult).',
  async run(args, ctx) {
    const command = 'activations';
    const layer = intOption(args.options.layer, 'layer', 0, command);
    const token = intOption(args.options.token, 'token', 0, command);
    const topUnits = intOption(args.options.top, 'top', 1, command);
    const stack = choiceOption(args.options.stack, 'stack', ['encoder', 'decoder'] as const, command);
    const variant = variantOf(args, command);
    const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
    const input = await textOrIds(args, ctx, command);
    const result = await withEngine(ctx, async (r) => {
      await r.open(modelPath, variant);
      return r.request('activations', { ...input, layer, token, topUnits, stack }, 'Reading hidden states');
    });
    write(ctx, args.options.json ? toJson(result) : renderActivations(forTerminal(result), ctx.style));
    return ExitCode.ok;
  },
};

/** `onnx-lens logit-lens`: each layer's next-token prediction, through the model's own output head. */
export const logitLensCommand: CommandDefinition = {
  name: 'logit-lens',
  summary: 'Show what each layer would predict if the model stopped there (decoders: next token).',
  usage: ['logit-lens [--model DIR|FILE] [--position P] [--top K] [--json] TEXT', 'logit-lens [--model …] --ids 464,3290,373'],
  options: {
    ...MODEL_OPTIONS,
    ...TEXT_OPTIONS,
    ...IDS_OPTION,
    position: { type: 'string', value: 'P', help: 'Token position read (default: where the prediction is read, the last token of a decoder).' },
    top: { type: 'string', value: 'K', help: 'Candidates per layer (default 10; the text view shows up to 5).' },
  },
  details:
    'Each hidden state goes through the model’s own final norm and output head (the graph’s nodes), so the last\n' +
    'row equals the model’s prediction. "rank" is where the final prediction stands in each layer’s distribution.',
  async run(args, ctx) {
    const command = 'logit-lens';
    const position = intOption(args.options.position, 'position', 0, command);
    const topK = intOption(args.options.top, 'top', 1, command);
    const variant = variantOf(args, command);
    const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
    const input = await textOrIds(args, ctx, command);
    const result = await withEngine(ctx, async (r) => {
      await r.open(modelPath, variant);
      return r.request('logitLens', { ...input, position, topK }, 'Reading the logit lens');
    });
    write(ctx, args.options.json ? toJson(result) : renderLogitLens(forTerminal(result), ctx.style, Math.min(5, topK ?? 5)));
    return ExitCode.ok;
  },
};

/** `onnx-lens heads`: head ablation importance and the cost of pruning a set of heads. */
export const headsCommand: CommandDefinition = {
  name: 'heads',
  summary: 'Measure how much each attention head matters (ablation), and what pruning a set of heads would cost.',
  usage: ['heads [--model DIR|FILE] [--target LABEL|TOKEN] [--prune L:H,L:H] [--no-grid] [--lines] [--json] TEXT'],
  options: {
    ...MODEL_OPTIONS,
    ...TEXT_OPTIONS,
    ...TARGET_OPTIONS,
    prune: { type: 'string', value: 'L:H,…', help: 'Also remove these heads together (0-based layer:head pairs) and report the change and whether the prediction flips.' },
    grid: { type: 'boolean', negatable: true, help: 'Measure every head one at a time (default on; --no-grid with --prune runs only the pruning).' },
    lines: { type: 'boolean', help: 'Treat each non-empty line of the text (e.g. from --file) as one example and average the importance over them.' },
  },
  details:
    'A head is removed by zeroing its attention probabilities (Hugging Face head-mask semantics). The grid gives,\n' +
    'per layer and head, the target logit without that head minus with every head: negative = the head supports the target.',
  async run(args, ctx) {
    const command = 'heads';
    const prune = args.options.prune !== undefined ? parseHeadList(String(args.options.prune)) : undefined;
    const gridOff = args.options.grid === false;
    if (gridOff && !prune) throw new UsageError('--no-grid needs --prune: without the grid there is nothing else to measure.', command);
    const variant = variantOf(args, command);
    const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
    const text = await readText(args, ctx, command);
    const texts = args.options.lines ? text.split(/\r?\n/).filter((l) => l.trim().length > 0) : undefined;
    const result = await withEngine(ctx, async (r) => {
      await r.open(modelPath, variant);
      return r.request(
        'headImportance',
        { ...(texts ? { texts } : { text }), prune, gridOff: gridOff || undefined, target: args.options.target as string | undefined, contrast: args.options.contrast as string | undefined },
        'Ablating attention heads',
      );
    });
    write(ctx, args.options.json ? toJson(result) : renderHeadImportance(forTerminal(result), ctx.style));
    return ExitCode.ok;
  },
};

/** `onnx-lens robustness`: predictions and explanations under seeded edits of the text. */
export const robustnessCommand: CommandDefinition = {
  name: 'robustness',
  summary: 'Edit the text in small ways (delete, swap, insert, synonym, typo) and show which edits flip the prediction.',
  usage: ['robustness [--model DIR|FILE] [--seed S] [--max-variants N] [--kinds K,K] [--method NAME|none] [--json] TEXT'],
  options: {
    ...MODEL_OPTIONS,
    ...TEXT_OPTIONS,
    ...TARGET_OPTIONS,
    seed: { type: 'string', value: 'S', help: 'Random seed of the edits; the same seed gives the same variants (default 0).' },
    'max-variants': { type: 'string', value: 'N', help: 'Most variants (default 30).' },
    kinds: { type: 'string', value: 'K,…', help: `Edit kinds: ${PERTURBATIONS.join(', ')} (default all).` },
    method: { type: 'string', value: 'NAME|none', help: 'Attribution method compared between original and variants (default occlusion; none skips it).' },
    budget: { type: 'string', value: 'N', help: 'Model evaluations per explanation (default per method).' },
  },
  details: 'Δp is the explained output’s probability in the variant minus in the original; TV is the total variation\ndistance between the two output distributions; rank agr. is the Spearman correlation of the shared words’ attributions.',
  async run(args, ctx) {
    const command = 'robustness';
    const seed = intOption(args.options.seed, 'seed', Number.MIN_SAFE_INTEGER, command);
    const maxVariants = intOption(args.options['max-variants'], 'max-variants', 1, command);
    const budget = intOption(args.options.budget, 'budget', 1, command);
    const method = choiceOption(args.options.method, 'method', EXPLAIN_METHODS, command);
    const kinds = args.options.kinds !== undefined
      ? String(args.options.kinds).split(',').filter((k) => k.trim() !== '').map((k) => choiceOption(k.trim(), 'kinds', PERTURBATIONS, command)!)
      : undefined;
    if (kinds && kinds.length === 0) throw new UsageError('--kinds is empty.', command);
    const variant = variantOf(args, command);
    const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
    const text = await readText(args, ctx, command);
    const result = await withEngine(ctx, async (r) => {
      await r.open(modelPath, variant);
      return r.request(
        'robustness',
        { text, seed, maxVariants, kinds, method, budget, target: args.options.target as string | undefined, contrast: args.options.contrast as string | undefined },
        'Testing robustness',
      );
    });
    write(ctx, args.options.json ? toJson(result) : renderRobustness(forTerminal(result), ctx.style));
    return ExitCode.ok;
  },
};

/** A column flag: a name, or a 0-based index for files without a header row. */
function columnOf(value: unknown, header: boolean | undefined): string | number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (text.trim() === '') throw new CliError('A column name is empty.', ExitCode.badInput);
  return header === false && /^\d+$/.test(text) ? Number(text) : text;
}

/** `onnx-lens dataset FILE`: a whole file of examples. */
export const datasetCommand: CommandDefinition = {
  name: 'dataset',
  summary: 'Run the model over a .jsonl/.csv/.tsv/.txt file: accuracy, confusion, influential words, hard examples.',
  usage: ['dataset FILE --text-column C [--label-column L] [--explain-method M] [--max-explained N] [--csv OUT] [--json]'],
  options: {
    ...MODEL_OPTIONS,
    'text-column': { type: 'string', value: 'C', help: 'Column (csv/tsv header name, or jsonl field) holding the text; default "text"/"sentence"…, or the first column. Not used for .txt (one example per line).' },
    'label-column': { type: 'string', value: 'L', help: 'Column holding the gold label; gives accuracy, the confusion table and the misclassified examples.' },
    format: { type: 'string', value: 'jsonl|csv|tsv|txt', help: 'The file format (default: from the extension).' },
    header: { type: 'boolean', negatable: true, help: 'Whether a csv/tsv file has a header row (default on; with --no-header, columns are 0-based numbers).' },
    limit: { type: 'string', value: 'N', help: 'Read at most N examples.' },
    'explain-method': { type: 'string', value: 'M', help: `Attribution method for the influential words: ${EXPLAIN_METHODS.join(', ')} (default occlusion).` },
    'max-explained': { type: 'string', value: 'N', help: 'Examples explained, at most (default 200).' },
    budget: { type: 'string', value: 'N', help: 'Model evaluations per explanation (default per method).' },
    seed: { type: 'string', value: 'S', help: 'Random seed of the explanations (default 0).' },
    'batch-size': { type: 'string', value: 'N', help: 'Examples per model batch (default 64).' },
    csv: { type: 'string', value: 'OUT', help: 'Also write the listed examples and the influential words as CSV to OUT.' },
    force: { type: 'boolean', help: 'Let --csv replace an existing file (never the dataset or a file of the model).' },
  },
  details: 'Lines that cannot be used (no text, bad JSON, missing column) are skipped and listed with their line numbers.',
  async run(args, ctx) {
    const command = 'dataset';
    if (args.positionals.length !== 1) throw new UsageError(args.positionals.length === 0 ? 'dataset needs a FILE.' : `dataset takes one FILE, not ${args.positionals.length}.`, command);
    const file = path.resolve(args.positionals[0]);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new CliError(`No file ${args.positionals[0]}.`, ExitCode.badInput);
    const header = args.options.header as boolean | undefined;
    const format = choiceOption(args.options.format, 'format', ['jsonl', 'csv', 'tsv', 'txt'] as const, command) as DatasetFormat | undefined;
    const csvOut = args.options.csv as string | undefined;
    if (csvOut !== undefined && csvOut.trim() === '') throw new UsageError('--csv needs a file name.', command);
    const params = {
      path: file,
      format,
      header,
      textColumn: columnOf(args.options['text-column'], header),
      labelColumn: columnOf(args.options['label-column'], header),
      limit: intOption(args.options.limit, 'limit', 1, command),
      method: choiceOption(args.options['explain-method'], 'explain-method', EXPLAIN_METHODS, command),
      maxExplained: intOption(args.options['max-explained'], 'max-explained', 0, command),
      budget: intOption(args.options.budget, 'budget', 1, command),
      seed: intOption(args.options.seed, 'seed', Number.MIN_SAFE_INTEGER, command),
      batchSize: intOption(args.options['batch-size'], 'batch-size', 1, command),
    };
    const variant = variantOf(args, command);
    const modelPath = resolveModelPath(args.options.model as string | undefined, ctx);
    const guard: OutputGuard = { flag: '--csv', force: Boolean(args.options.force), protectedFiles: [file, ...modelFilesOf(modelPath)] };
    if (csvOut !== undefined) checkOutputFile(csvOut, guard);
    // The engine sends the figures so far a few times a second: Ctrl-C prints the last of them, marked partial.
    let soFar: DatasetResult | undefined;
    let result: DatasetResult;
    try {
      result = await withEngine(ctx, async (r) => {
        const card = await r.open(modelPath, variant);
        guard.protectedFiles = [file, ...modelFilesOf(card.path, card.files.map((f) => f.path))];
        return r.request('datasetRun', { ...params, partialResults: true }, `Running on ${path.basename(file)}`, { partial: (p) => {
          if (p && typeof p === 'object' && (p as DatasetResult).partial) soFar = p as DatasetResult;
        } });
      });
    } catch (err) {
      if (!ctx.signal.aborted || !soFar) throw err;
      write(ctx, args.options.json ? toJson(soFar) : renderDataset(forTerminal(soFar), ctx.style));
      ctx.stderr.write(`onnx-lens: interrupted; the results above are partial: ${soFar.partial!.reason}${csvOut !== undefined ? ' No CSV was written.' : ''}\n`);
      return ExitCode.interrupted;
    }
    if (csvOut !== undefined) {
      writeOutputFile(csvOut, datasetCsv(result), guard);
      if (!args.options.quiet) ctx.stderr.write(`CSV written to ${terminalSafe(csvOut)}\n`);
    }
    write(ctx, args.options.json ? toJson(result) : renderDataset(forTerminal(result), ctx.style));
    return ExitCode.ok;
  },
};
