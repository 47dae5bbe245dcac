/**
 * `onnx-lens explain --lines` and `--jsonl`: a file of texts explained in one engine, one after the other,
 * so the process and the model are started once instead of once per text. Results stream out as each text
 * is done: text blocks, or one JSON object per line (JSONL).
 */
import type { ExplainParams, ExplanationResult, TargetSpec } from '../protocol/engineApi';
import type { CommandContext } from './commandSpec';
import type { EngineRunner } from './engineRunner';
import { CliError, ExitCode } from './exitCodes';
import { toJson } from './jsonOutput';
import { renderExplanation } from './renderText';
import { forTerminal, terminalSafe } from './terminalOutput';

/** One input line: a text to explain (with what that line says about its target), or why it cannot be. */
export type LineItem =
  | { line: number; text: string; id?: unknown; spec: TargetSpec }
  | { line: number; error: string };

const SPEC_FIELDS = ['target', 'contrast', 'outputIndex', 'mask', 'position'] as const;

/**
 * The items of an input: with `jsonl`, each non-empty line is a JSON object with a string `text` and,
 * optionally, `id` (echoed in the output), `target`, `contrast`, `outputIndex`, `mask` and `position`
 * (overriding the flags for that line); otherwise each non-empty line is a text. Lines are numbered from 1.
 */
export function lineItems(input: string, jsonl: boolean): LineItem[] {
  const items: LineItem[] = [];
  input.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    if (!jsonl) {
      items.push({ line, text: raw, spec: {} });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      items.push({ line, error: `not JSON (${(err as Error).message})` });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      items.push({ line, error: 'not a JSON object; each line needs {"text": "…"}' });
      return;
    }
    const o = value as Record<string, unknown>;
    if (typeof o.text !== 'string' || o.text.trim() === '') {
      items.push({ line, error: 'no "text" (a non-empty string)' });
      return;
    }
    const spec: TargetSpec = {};
    for (const key of SPEC_FIELDS) {
      const v = o[key];
      if (v === undefined || v === null) continue;
      const numeric = key !== 'target' && key !== 'contrast';
      if (numeric ? !Number.isInteger(v) || (v as number) < 0 : typeof v !== 'string' && !Number.isInteger(v)) {
        items.push({ line, error: `"${key}" must be ${numeric ? 'a whole number ≥ 0' : 'a string or a whole number'}` });
        return;
      }
      (spec as Record<string, unknown>)[key] = v;
    }
    items.push({ line, text: o.text, spec, ...(o.id !== undefined ? { id: o.id } : {}) });
  });
  return items;
}

/** One output record of `--json` / `--jsonl`: the explanation with its line (and id), or the line's error. */
function record(item: LineItem, result: ExplanationResult | undefined, error?: string): string {
  const head = { line: item.line, ...('id' in item && item.id !== undefined ? { id: item.id } : {}) };
  return toJson(result ? { ...head, ...result } : { ...head, error }, 0);
}

/**
 * Explains every item with one engine (the model already open in `runner`). A line the engine refuses as
 * bad input is reported and the run goes on; a model error or Ctrl-C ends it. Resolves to the exit code:
 * 0, or 1 when some lines failed.
 */
export async function explainLines(runner: EngineRunner, items: LineItem[], params: Omit<ExplainParams, 'text'>, ctx: CommandContext, json: boolean): Promise<number> {
  if (items.length === 0) throw new CliError('The input has no lines to explain: give one text per line (--lines) or one JSON object per line (--jsonl).', ExitCode.badInput);
  let failed = 0;
  for (const [k, item] of items.entries()) {
    let result: ExplanationResult | undefined;
    let error = 'error' in item ? item.error : undefined;
    if (!('error' in item)) {
      try {
        result = await runner.request('explain', { ...params, ...item.spec, text: item.text }, `Explaining line ${item.line} (${k + 1} of ${items.length})`);
      } catch (err) {
        if (!(err instanceof CliError) || err.exitCode !== ExitCode.badInput) throw err;
        error = err.message;
      }
    }
    if (!result) failed++;
    if (json) ctx.stdout.write(`${record(item, result, error)}\n`);
    else if (result) ctx.stdout.write(`${ctx.style.bold(`Line ${item.line}`)}\n${renderExplanation(forTerminal(result), ctx.style)}\n\n`);
    else ctx.stdout.write(`${ctx.style.bold(`Line ${item.line}`)}\n${ctx.style.red(`error: ${terminalSafe(error ?? '')}`)}\n\n`);
  }
  if (failed > 0) {
    ctx.stderr.write(`onnx-lens: ${failed} of ${items.length} lines could not be explained (see their errors above).\n`);
    return ExitCode.badInput;
  }
  return ExitCode.ok;
}
