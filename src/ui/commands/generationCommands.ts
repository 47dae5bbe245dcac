import * as vscode from 'vscode';
import type { GenerateParams, GenerationExplanation, GenerationProgress, GenerationResult, MethodName } from '../../protocol/engineApi';
import type { HostToPanel } from '../../protocol/webviewMessages';
import { buildGenerationReport } from '../../render/generationReport';
import { showLensError } from '../errorMessages';
import type { GenerationGhostText } from '../editor/generationGhostText';
import { generationHoverMarkdown } from '../editor/generationHoverText';
import { Commands, Settings } from '../ids';
import { notices } from '../notices';
import type { GenerationPanelActions } from '../panel/explanationPanel';
import type { Services } from '../services';
import { requireSelection, runCancellable, type TextInput } from './analysisCommands';
import { exportGuard, safeFileName, saveBytes } from './exportCommands';
import { requireModel } from './modelCommands';

/** Methods the matrix can use (attention rollout and flow explain one position). */
const GENERATION_METHODS: readonly MethodName[] = ['occlusion', 'kernel-shap', 'partition-shap', 'exact-shapley', 'lime', 'occlusion-window'];

/** The `onnxLens.generation.*` settings, typed, with package.json's defaults. */
export interface GenerationConfig {
  maxNewTokens: number;
  method: MethodName;
  ghostText: boolean;
  chat: boolean;
}

export function readGenerationConfig(): GenerationConfig {
  const c = vscode.workspace.getConfiguration(Settings.section);
  const max = c.get<unknown>(Settings.generationMaxNewTokens);
  const method = c.get<unknown>(Settings.generationMethod);
  return {
    maxNewTokens: typeof max === 'number' && Number.isInteger(max) && max >= 1 ? max : 32,
    method: GENERATION_METHODS.includes(method as MethodName) ? (method as MethodName) : 'occlusion',
    ghostText: c.get<unknown>(Settings.generationGhostText) !== false,
    chat: c.get<unknown>(Settings.generationChat) === true,
  };
}

/** A generation of the editor's selection, its explanation, and the token whose colours are shown. */
export interface GenerationState {
  id: string;
  input: TextInput;
  result?: GenerationResult;
  explanation?: GenerationExplanation;
  /** −1: the whole continuation. */
  step: number;
}

/** Options of Generate and Explain (the command takes them as its argument; the settings give the rest). */
export interface GenerateOptions extends Partial<Omit<GenerateParams, 'prompt'>> {
  /** Explain the tokens once generated (default true). */
  explain?: boolean;
  method?: MethodName;
}

/**
 * Generate and Explain: the selection is the prompt; the continuation streams into the Generation tab
 * (and after the selection as faded text); then every generated token is attributed to the prompt's
 * words, the prompt is painted by the whole continuation's attributions, and choosing a token in the
 * panel paints it by that token's.
 */
export class GenerationController implements GenerationPanelActions {
  private state: GenerationState | undefined;
  private counter = 0;

  constructor(private readonly services: Services) {}

  private get ghost(): GenerationGhostText {
    return this.services.ghostText;
  }

  get latest(): GenerationState | undefined {
    return this.state;
  }

  /** Another model was opened: the generation, its faded text and its colours belong to the previous one. */
  forget(): void {
    this.state = undefined;
    this.ghost.clear();
  }

  initialMessages(): HostToPanel[] {
    const s = this.state;
    return s?.result ? [{ type: 'generation', view: { result: s.result, explanation: s.explanation, step: s.step } }] : [];
  }

  async generateAndExplain(options: GenerateOptions = {}): Promise<GenerationState | undefined> {
    const input = await requireSelection();
    if (!input) return undefined;
    const card = await requireModel(this.services);
    if (!card) return undefined;
    if (card.task !== 'causal-lm') {
      void notices.info(
        `ONNX Lens: Generate and Explain needs a causal language model (GPT-2, Llama, Qwen2 or Phi style); ${card.name} is a ${card.task} model. Open one with "Open Model…", or use Explain Selection.`,
      );
      return undefined;
    }
    const config = readGenerationConfig();
    const state: GenerationState = { id: `generation:${++this.counter}`, input, step: -1 };
    this.state = state;
    const { explain, method, ...generate } = options;
    const params: GenerateParams = { maxNewTokens: config.maxNewTokens, chat: config.chat, ...generate, prompt: input.text };
    const end = input.offset + input.text.length;
    this.services.highlights.clear(input.uri);
    this.services.panel.show('generation');
    this.services.panel.post({ type: 'generationStart', prompt: input.text });
    try {
      state.result = await runCancellable(this.services, 'ONNX Lens: generating', (signal, report) =>
        this.services.engine.request('generate', params, {
          label: 'Generating',
          signal,
          onProgress: (p) => {
            const partial = p.partial as GenerationProgress | undefined;
            if (!partial) return;
            report(p);
            this.services.panel.post({ type: 'generationToken', progress: partial });
            if (config.ghostText && input.uri) this.ghost.show(input.uri, end, partial.text);
          },
        }),
      );
    } catch (error) {
      void showLensError(error, 'Generating');
      return state;
    }
    if (config.ghostText && input.uri) this.ghost.show(input.uri, end, state.result.text);
    this.post();
    if (explain !== false && state.result.tokens.length > 0 && state.result.stopReason !== 'cancelled') await this.explainCurrent(method ?? config.method);
    return state;
  }

  /** Explains the current generation's tokens (after a cancel, or again with another method). */
  async explainCurrent(method: MethodName = readGenerationConfig().method): Promise<GenerationExplanation | undefined> {
    const state = this.state;
    const result = state?.result;
    if (!state || !result || result.tokens.length === 0) {
      void notices.info('ONNX Lens: generate a continuation first (Generate and Explain).');
      return undefined;
    }
    const settings = this.services.runSettings.current;
    try {
      const explanation = await runCancellable(this.services, 'ONNX Lens: explaining each generated token', (signal, report) =>
        this.services.engine.request(
          'explainGeneration',
          {
            prompt: result.prompt,
            chat: result.chat,
            generated: result.tokens.map((t) => t.id),
            method,
            budget: method === 'occlusion' || method === 'occlusion-window' ? undefined : settings.budget,
            seed: settings.seed,
            level: settings.level,
          },
          { label: 'Explaining each generated token', signal, onProgress: report },
        ),
      );
      if (this.state !== state) return explanation;
      state.explanation = explanation;
      state.step = -1;
      this.paint();
      this.post();
      return explanation;
    } catch (error) {
      void showLensError(error, 'Explaining the generation');
      return undefined;
    }
  }

  /** Paints the prompt by one generated token's attributions (−1: the whole continuation). */
  selectStep(step: number): void {
    const s = this.state;
    if (!s?.explanation) return;
    s.step = step >= 0 && step < s.explanation.targets.length ? step : -1;
    this.paint();
    this.services.panel.post({ type: 'generationStep', step: s.step });
  }

  explain(): void {
    void this.explainCurrent();
  }

  /**
   * Inserts the continuation after the prompt, where the faded text was, if the prompt is still there as it
   * was generated from. Resolves to whether the document was changed.
   */
  async insert(): Promise<boolean> {
    const s = this.state;
    if (!s?.result || !s.input.uri) return false;
    const uri = vscode.Uri.parse(s.input.uri);
    const { offset, text: prompt } = s.input;
    try {
      const document = await vscode.workspace.openTextDocument(uri);
      const now = document.getText(new vscode.Range(document.positionAt(offset), document.positionAt(offset + prompt.length)));
      if (now !== prompt) {
        void notices.info('ONNX Lens: the prompt has changed since it was generated from; run Generate and Explain again.');
        return false;
      }
      const edit = new vscode.WorkspaceEdit();
      edit.insert(uri, document.positionAt(offset + prompt.length), s.result.text);
      this.ghost.clear();
      if (await vscode.workspace.applyEdit(edit)) return true;
      void notices.error(`ONNX Lens: the continuation could not be inserted into ${document.fileName} (the editor refused the edit).`);
      return false;
    } catch (error) {
      void notices.error(`ONNX Lens: the continuation could not be inserted: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }

  /**
   * Saves the generation and its explanation as JSON or as a self-contained HTML report, to `target` or where
   * the user picks; never over a file of the model.
   */
  async exportData(format: 'json' | 'html', target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const s = this.state;
    if (!s?.result) {
      void notices.info('ONNX Lens: there is no generation to export yet.');
      return undefined;
    }
    const body = format === 'json' ? JSON.stringify({ generation: s.result, explanation: s.explanation }, null, 2) : buildGenerationReport(s.result, s.explanation);
    const name = `onnx-lens-generation-${safeFileName(s.result.prompt)}.${format}`;
    const filters: Record<string, string[]> = format === 'json' ? { JSON: ['json'] } : { 'HTML report': ['html'] };
    return saveBytes(name, filters, new TextEncoder().encode(body), exportGuard(this.services), target);
  }

  /** Hover Markdown for a painted prompt word, if the highlight belongs to the current generation. */
  hover(explanationId: string, feature: number): string | undefined {
    const s = this.state;
    if (!s?.explanation || s.id !== explanationId) return undefined;
    const args = encodeURIComponent(JSON.stringify([{ tab: 'generation' }]));
    return generationHoverMarkdown(s.explanation, feature, s.step, `command:${Commands.showPanel}?${args}`);
  }

  private paint(): void {
    const s = this.state;
    const e = s?.explanation;
    if (!s || !e || !s.input.uri) return;
    const values = s.step >= 0 ? e.targets[s.step].values : e.sequence.values;
    this.services.highlights.showFeatures(
      s.input.uri,
      s.id,
      e.features.map((f, i) => ({ text: f.text, start: f.start, end: f.end, value: values[i], tokenIndices: f.tokenIndices })),
      s.input.offset,
    );
  }

  private post(): void {
    const s = this.state;
    if (s?.result) this.services.panel.post({ type: 'generation', view: { result: s.result, explanation: s.explanation, step: s.step } });
  }
}

/** The command, the hover on the painted prompt, and the Generation tab's buttons. */
export function registerGenerationCommands(services: Services, controller: GenerationController): vscode.Disposable {
  services.panel.setGenerationActions(controller);
  return vscode.Disposable.from(
    vscode.commands.registerCommand(Commands.generateAndExplain, (options?: GenerateOptions) => controller.generateAndExplain(options ?? {})),
    vscode.languages.registerHoverProvider(
      { scheme: '*' },
      {
        provideHover(document, position) {
          const h = services.highlights.at(document, position);
          if (!h) return undefined;
          const text = controller.hover(h.explanationId, h.feature);
          if (!text) return undefined;
          const markdown = new vscode.MarkdownString(text);
          // Only the panel command may run from the link; nothing else in the text is trusted.
          markdown.isTrusted = { enabledCommands: [Commands.showPanel] };
          return new vscode.Hover(markdown, new vscode.Range(document.positionAt(h.start), document.positionAt(h.end)));
        },
      },
    ),
  );
}
