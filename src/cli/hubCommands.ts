/**
 * `onnx-lens download` and `onnx-lens models`: fetch transformers.js ONNX exports from the
 * Hugging Face Hub (or a mirror) into the local cache, list and remove them. The access token
 * comes from HF_TOKEN and is never printed.
 */
import { CURATED_MODELS, DOWNLOAD_LIMITS, DownloadProgress, HubError, downloadModel } from '../engine/model/hubDownload';
import { isValidRepoId, listCachedModels, removeCachedModel } from '../engine/model/modelCache';
import { CommandContext, CommandDefinition } from './commandSpec';
import { CliError, ExitCode, ExitCodeValue } from './exitCodes';
import { toJson } from './jsonOutput';
import { defaultCacheDir } from './packagePaths';
import { UsageError, choiceOption, intOption } from './parseArgs';
import { formatBytes, table, terminalSafe } from './terminalOutput';

/** Exit code for a failed download: 1 for what the user typed wrong, 130 for Ctrl-C, else 2. */
export function exitCodeForHubError(error: HubError): ExitCodeValue {
  if (error.code === 'cancelled') return ExitCode.interrupted;
  if (error.code === 'bad-repo-id') return ExitCode.badInput;
  return ExitCode.model;
}

function cacheDirOf(args: { options: Record<string, unknown> }, ctx: CommandContext): string {
  const dir = args.options.cache as string | undefined;
  if (dir !== undefined && dir.trim() === '') throw new UsageError('--cache needs a folder.');
  return dir ?? defaultCacheDir(ctx.env);
}

const CACHE_OPTION = { type: 'string' as const, value: 'DIR', help: 'Model cache folder (default $XDG_CACHE_HOME/onnx-lens/models or ~/.cache/onnx-lens/models).' };

/** `onnx-lens download REPO_ID`: one variant of a hub model into the cache; prints the folder. */
export const downloadCommand: CommandDefinition = {
  name: 'download',
  summary: 'Download a transformers.js ONNX export from the Hugging Face Hub into the model cache.',
  usage: [
    'download REPO_ID [--variant fp32|quantized] [--revision REV] [--endpoint URL] [--cache DIR] [--force] [--json]',
    '                 [--timeout SECONDS] [--min-rate BYTES_PER_SECOND] [--deadline SECONDS]',
  ],
  options: {
    variant: { type: 'string', value: 'fp32|quantized', help: 'Which ONNX export to fetch (default fp32).' },
    revision: { type: 'string', value: 'REV', help: 'Branch, tag or commit (default main).' },
    endpoint: { type: 'string', value: 'URL', help: 'Hub or mirror base URL (default https://huggingface.co).' },
    cache: CACHE_OPTION,
    force: { type: 'boolean', help: 'Download again even when a complete copy is cached.' },
    json: { type: 'boolean', help: 'Write the result (path, files, sizes) as JSON on standard output.' },
    timeout: { type: 'string', value: 'SECONDS', help: `Give up when the server sends nothing for this long (default ${DOWNLOAD_LIMITS.timeoutMs / 1000}).` },
    'min-rate': {
      type: 'string',
      value: 'BYTES_PER_SECOND',
      help: `Give up when a file arrives slower than this, measured over each --timeout period (default ${DOWNLOAD_LIMITS.minBytesPerSecond}; 0: no minimum).`,
    },
    deadline: { type: 'string', value: 'SECONDS', help: `Give up when the whole download takes longer than this (default ${DOWNLOAD_LIMITS.deadlineMs / 1000}, 6 hours).` },
  },
  details:
    'Gated or private repositories need an access token in HF_TOKEN (or HUGGING_FACE_HUB_TOKEN); it is sent only to the\n' +
    'endpoint and never printed. The model folder path is printed on standard output, so it can feed --model:\n' +
    '  onnx-lens explain --model "$(onnx-lens download Xenova/distilbert-base-uncased-finetuned-sst-2-english -q)" "a fine film"\n' +
    'A downloaded model can also be named by its REPO_ID: onnx-lens inspect --model OWNER/NAME.\n' +
    'One download of a model runs at a time: a second one (from any process) waits, then uses the first one\'s copy.\n' +
    'Ctrl-C, SIGTERM or SIGHUP stops a download and removes its partial files (exit 130).\n\n' +
    'Models known to work:\n' +
    CURATED_MODELS.map((m) => `  ${m.repo.padEnd(58)} ${m.task}`).join('\n'),
  async run(args, ctx) {
    if (args.positionals.length !== 1) {
      throw new UsageError(args.positionals.length === 0 ? 'Missing REPO_ID, e.g. onnx-lens download Xenova/bert-base-uncased.' : `download takes one REPO_ID (got ${args.positionals.length}).`, 'download');
    }
    const repo = args.positionals[0];
    if (!isValidRepoId(repo)) throw new CliError(`"${repo}" is not a model repository id; expected owner/name, e.g. ${CURATED_MODELS[0].repo}.`, ExitCode.badInput);
    const variant = choiceOption(args.options.variant, 'variant', ['fp32', 'quantized'] as const, 'download') ?? 'fp32';
    const timeoutSeconds = intOption(args.options.timeout, 'timeout', 1, 'download');
    const minBytesPerSecond = intOption(args.options['min-rate'], 'min-rate', 0, 'download');
    const deadlineSeconds = intOption(args.options.deadline, 'deadline', 1, 'download');
    const cacheDir = cacheDirOf(args, ctx);
    const label = `Downloading ${repo} (${variant})`;
    ctx.progress.update(`${label}…`);
    let result;
    try {
      result = await downloadModel({
        repo,
        variant,
        revision: args.options.revision as string | undefined,
        endpoint: args.options.endpoint as string | undefined,
        cacheDir,
        force: Boolean(args.options.force),
        timeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
        minBytesPerSecond,
        deadlineMs: deadlineSeconds === undefined ? undefined : deadlineSeconds * 1000,
        signal: ctx.signal,
        onProgress: (p: DownloadProgress) =>
          ctx.progress.update(`${label}: ${p.file} ${formatBytes(p.bytes)}${p.total ? ` of ${formatBytes(p.total)}` : ''}`, p.bytes, p.total),
      });
    } catch (err) {
      ctx.progress.clear();
      if (ctx.signal.aborted) throw new CliError(`Download of ${repo} interrupted; nothing partial was kept as a complete model.`, ExitCode.interrupted);
      if (err instanceof HubError) throw new CliError(err.message, exitCodeForHubError(err));
      if (typeof (err as NodeJS.ErrnoException)?.code === 'string') {
        throw new CliError(`Cannot write the model cache ${cacheDir}: ${(err as Error).message}. Choose another folder with --cache.`, ExitCode.model);
      }
      throw err;
    }
    ctx.progress.done();
    if (args.options.json) {
      ctx.stdout.write(toJson(result) + '\n');
      return ExitCode.ok;
    }
    if (!args.options.quiet) {
      ctx.stderr.write(
        `${result.fromCache ? 'Already cached' : 'Downloaded'}: ${repo} ${result.variant} at ${terminalSafe(result.revision)}, ${result.files.length} files, ${formatBytes(result.totalBytes)}\n`,
      );
    }
    ctx.stdout.write(`${terminalSafe(result.path)}\n`);
    return ExitCode.ok;
  },
};

/** `onnx-lens models`: list the cache, or `--remove` a model from it. */
export const modelsCommand: CommandDefinition = {
  name: 'models',
  summary: 'List the models in the cache, or remove one.',
  usage: ['models [--cache DIR] [--json]', 'models --remove REPO_ID [--revision REV] [--cache DIR]'],
  options: {
    cache: CACHE_OPTION,
    remove: { type: 'string', value: 'REPO_ID', help: 'Delete this model (every revision, or only --revision) from the cache.' },
    revision: { type: 'string', value: 'REV', help: 'With --remove: only this revision.' },
    json: { type: 'boolean', help: 'Write the list as JSON on standard output.' },
  },
  async run(args, ctx) {
    if (args.positionals.length) throw new UsageError(`Unexpected argument "${args.positionals[0]}".`, 'models');
    const cacheDir = cacheDirOf(args, ctx);
    const remove = args.options.remove as string | undefined;
    if (remove !== undefined) {
      if (!isValidRepoId(remove)) throw new CliError(`"${remove}" is not a model repository id; expected owner/name.`, ExitCode.badInput);
      let removed: boolean;
      try {
        removed = await removeCachedModel(cacheDir, remove, args.options.revision as string | undefined);
      } catch (err) {
        throw new CliError((err as Error).message, ExitCode.badInput);
      }
      if (!removed) throw new CliError(`${remove} is not in the cache (${cacheDir}).`, ExitCode.badInput);
      if (args.options.json) ctx.stdout.write(toJson({ removed: remove, revision: args.options.revision ?? null }) + '\n');
      else ctx.stdout.write(`Removed ${remove}${args.options.revision ? ` at ${String(args.options.revision)}` : ''}\n`);
      return ExitCode.ok;
    }
    if (args.options.revision !== undefined) throw new UsageError('--revision only goes with --remove.', 'models');
    const models = await listCachedModels(cacheDir);
    if (args.options.json) {
      ctx.stdout.write(toJson({ cacheDir, models }) + '\n');
      return ExitCode.ok;
    }
    if (models.length === 0) {
      ctx.stdout.write(`No models in ${terminalSafe(cacheDir)}. Download one with: onnx-lens download REPO_ID\n`);
      return ExitCode.ok;
    }
    const s = ctx.style;
    const rows = models.map((m) => [
      terminalSafe(m.repo),
      terminalSafe(m.revision),
      terminalSafe(m.variant ?? '?'),
      formatBytes(m.sizeBytes),
      m.complete ? s.green('complete') : s.yellow('incomplete'),
      terminalSafe(m.path),
    ]);
    ctx.stdout.write(`${s.dim(`Models in ${terminalSafe(cacheDir)}:`)}\n${table([['repo', 'revision', 'variant', 'size', 'state', 'path'].map((h) => s.dim(h)), ...rows], new Set([3]))}\n`);
    return ExitCode.ok;
  },
};
