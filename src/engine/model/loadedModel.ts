import * as crypto from 'node:crypto';
import * as path from 'node:path';
import type {
  AttentionTensor,
  EncodedText,
  EngineOptions,
  HiddenStateTensor,
  ModelCard,
  ResolvedTarget,
  TokenView,
} from '../../protocol/engineApi';
import { BadInputError } from '../process/engineErrors';
import { BatchedEvaluator, BatchOutputs, DEFAULT_EVALUATOR_OPTIONS, EvaluatorOptions, PaddedBatch } from '../run/batchedEvaluator';
import type { BaseInput } from '../run/inputVariants';
import type { ReadSpec } from '../run/outputReaders';
import { BATCH_ACTIVATION_BYTES, collectGarbage, memoryLimitBytes, refuseOverMemory, rowActivationBytes } from '../run/memoryBudget';
import { encodeLongText, MAX_TOKENIZED_CHARS } from '../text/longText';
import type { Encoding, Tokenizer } from '../text/tokenizer';
import { checkTokenizerFits, inspectModel, ModelCard as InspectedCard } from './modelCard';
import { READ_ROWS_INPUT, readPositionCut, readPositionGraph } from './graphCut';
import { ModelError } from './modelError';
import { MAX_JSON_BYTES, readRegularFile } from './modelFileReader';
import { findModelFiles, GraphRole, loadGraphFile, loadModelTokenizer, ModelFiles, readModelConfig } from './modelFolder';
import { ModelSession, TensorData } from './modelSession';
import { dataTypeName, parseOnnxModel } from './onnxProto';

/** Most tokens a T5 output may have when the engine generates it. */
const MAX_GENERATED_TOKENS = 32;
/** Memory allowed for one batch's logits (bytes), so [batch, seq, vocab] outputs stay bounded. */
const LOGITS_BUDGET_BYTES = 256 * 1024 * 1024;

/** One text (or a sentence pair), tokenized and ready to be run or perturbed. */
export interface PreparedInput {
  text: string;
  /** The second text of a sentence pair. */
  textPair?: string;
  encoding: Encoding;
  encoded: EncodedText;
  truncationMessage?: string;
  /** Seq2seq: the generated output token ids (without the decoder start token). */
  generated?: number[];
  decoderTokens?: TokenView[];
  /** Seq2seq: the decoder's input ids (start token + generated, teacher forced). */
  decoderIds?: number[];
  /** Where outputs are read for a target (default: the prediction's position). */
  readSpec(target: ResolvedTarget | undefined): ReadSpec;
  /** The original tokens and what may never be removed. */
  baseInput(locked: Set<number>): BaseInput;
}

export interface ExposedRun {
  attentions: AttentionTensor[];
  hiddenStates: HiddenStateTensor[];
  note?: string;
}

function tensor(dims: number[], data: BigInt64Array): TensorData {
  return { dims, data };
}

/** The main graph's text inputs for a padded batch. */
function mainFeeds(session: ModelSession, b: PaddedBatch): Record<string, TensorData> {
  const feeds: Record<string, TensorData> = {
    input_ids: tensor([b.batch, b.seqLen], b.inputIds),
    attention_mask: tensor([b.batch, b.seqLen], b.attentionMask),
  };
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = tensor([b.batch, b.seqLen], b.tokenTypeIds);
  return feeds;
}

/** Rows [from, to) of a padded batch (same padded length). */
function sliceBatch(b: PaddedBatch, from: number, to: number): PaddedBatch {
  const s = b.seqLen;
  return {
    batch: to - from,
    seqLen: s,
    inputIds: b.inputIds.subarray(from * s, to * s),
    attentionMask: b.attentionMask.subarray(from * s, to * s),
    tokenTypeIds: b.tokenTypeIds.subarray(from * s, to * s),
    rows: b.rows.slice(from, to),
    readPositions: b.readPositions?.slice(from, to),
  };
}

function sha256Bytes(file: string): string {
  return crypto.createHash('sha256').update(readRegularFile(file, MAX_JSON_BYTES)).digest('hex');
}

/**
 * One open model: its files, card, tokenizer and onnxruntime sessions (plain ones for the batched
 * evaluator, and ones with attention and hidden states exposed, created when first needed).
 */
export class LoadedModel {
  private readonly sessions = new Map<string, Promise<ModelSession>>();
  private readonly evaluators = new Map<string, BatchedEvaluator>();
  private readHeadSession: Promise<ModelSession | undefined> | undefined;
  /** Sessions of graphs made from this model's (the logit lens, a head mask, next-token heads), by name. */
  private readonly derived = new Map<string, Promise<{ session: ModelSession }>>();

  private constructor(
    readonly card: ModelCard,
    readonly inspected: InspectedCard,
    readonly files: ModelFiles,
    readonly tokenizer: Tokenizer,
    readonly options: EngineOptions,
    readonly config: Record<string, unknown>,
  ) {}

  /** Opens a model folder or `.onnx` file (variant: fp32 by default when present). */
  static async open(modelPath: string, variant: string | undefined, options: EngineOptions): Promise<LoadedModel> {
    if (!modelPath) throw new BadInputError('No model path given. Choose a model folder or an .onnx file.');
    const files = findModelFiles(modelPath, { variant });
    const inspected = await inspectModel(files);
    const tokenizer = loadModelTokenizer(files);
    checkTokenizerFits(inspected, tokenizer.vocabSize);
    const config = readModelConfig(files).config ?? {};
    const card = toProtocolCard(inspected, files, tokenizer);
    return new LoadedModel(card, inspected, files, tokenizer, options, config);
  }

  get isSeq2seq(): boolean {
    return this.card.task === 'seq2seq';
  }

  /** Bytes one request may plan to hold (the `memoryLimitMb` option, or half of the machine's memory). */
  get memoryLimit(): number {
    return memoryLimitBytes(this.options.memoryLimitMb);
  }

  /**
   * Refuses, before the run, an input whose exposed attention and hidden states would not fit the memory limit
   * (they are copied once more to cross to the caller).
   */
  checkExposedMemory(input: PreparedInput): void {
    const s = input.encoding.ids.length + (input.decoderIds?.length ?? 0);
    const layers = this.card.layers.value + (this.card.decoderLayers?.value ?? 0);
    const bytes = 2 * 4 * (layers * this.card.heads.value * s * s + (layers + 2) * s * this.card.hiddenSize.value);
    refuseOverMemory(
      `The attention and hidden states of ${s} tokens × ${layers} layers × ${this.card.heads.value} heads`,
      bytes,
      this.memoryLimit,
      'Select a shorter passage, or lower the maxTokens setting.',
    );
  }

  /** The most tokens one input may have (the setting, capped by the model's positions). */
  get maxTokens(): number {
    const setting = this.options.maxTokens && this.options.maxTokens > 0 ? this.options.maxTokens : 512;
    const positions = this.card.maxPositions.value > 0 ? this.card.maxPositions.value : setting;
    return Math.min(setting, positions);
  }

  /** The session of one graph of the model (created on first use; `expose` adds attention and hidden states). */
  session(role: GraphRole, expose: boolean): Promise<ModelSession> {
    const file = this.files.graphs[role];
    if (!file) throw new ModelError('not-found', `This model has no ${role} graph.`);
    const key = `${role}:${expose}`;
    let s = this.sessions.get(key);
    if (!s) {
      const graph = loadGraphFile(file, this.files.folder);
      s = ModelSession.create(graph.bytes, graph.model, {
        modelFile: file,
        expose,
        executionProviders: this.options.executionProviders,
        intraOpNumThreads: this.options.threads,
        analyze: role === 'decoder' && !this.isSeq2seq ? { stack: 'decoder' } : undefined,
      }).then((session) => {
        // The file's bytes (and an exposed copy) are dead now that the runtime holds the weights.
        collectGarbage();
        return session;
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  /**
   * A session of a graph made from this model's, built once on first use (again after a failure) and released
   * with the model: what the analyses add (a cut for the logit lens, a head mask, next-token heads) never
   * outlives the model it was made from.
   */
  derivedSession<T extends { session: ModelSession }>(name: string, create: () => Promise<T>): Promise<T> {
    let s = this.derived.get(name) as Promise<T> | undefined;
    if (!s) {
      s = create();
      s.catch(() => this.derived.delete(name));
      this.derived.set(name, s);
    }
    return s;
  }

  /** The graph that takes the text: the model, or the encoder of a seq2seq model, or a decoder-only graph. */
  get mainRole(): GraphRole {
    const g = this.files.graphs;
    if (g.model) return 'model';
    if (g.encoder) return 'encoder';
    if (g.decoder) return 'decoder';
    if (g.decoderMerged) return 'decoderMerged';
    throw new ModelError('not-found', 'This model folder has no graph that takes the text.');
  }

  private get decoderRole(): GraphRole {
    return this.files.graphs.decoder ? 'decoder' : 'decoderMerged';
  }

  /**
   * Tokenizes a text — or a sentence pair, `textPair` being the second text (segment B) — for this model,
   * with the checks users need to hear about.
   */
  async prepare(text: string, textPair?: string): Promise<PreparedInput> {
    if (typeof text !== 'string' || text.trim().length === 0) {
      throw new BadInputError(
        textPair === undefined
          ? 'The text is empty. Select some text (a word or more) and try again.'
          : 'The first text of the sentence pair is empty. Give both texts of the pair some words.',
      );
    }
    if (textPair !== undefined) return this.preparePair(text, textPair);
    // A long text is cut to what the model reads, tokenizing no more of it than that needs.
    const encoding = encodeLongText(this.tokenizer, text, this.maxTokens);
    if (!encoding) {
      throw new BadInputError(
        `The text has ${text.length.toLocaleString('en-US')} characters and its first ${MAX_TOKENIZED_CHARS.toLocaleString('en-US')} hold no break between words to cut at (the model reads at most ${this.maxTokens} tokens). Select a shorter passage.`,
      );
    }
    return this.finishPrepare(text, encoding);
  }

  /** A sentence pair: both texts through the tokenizer's pair template, cut as Hugging Face's longest_first does. */
  private preparePair(text: string, textPair: string): Promise<PreparedInput> {
    this.checkPair(textPair);
    const chars = text.length + textPair.length;
    if (chars > MAX_TOKENIZED_CHARS) {
      throw new BadInputError(
        `The texts of the pair have ${chars.toLocaleString('en-US')} characters; ONNX Lens reads at most ${MAX_TOKENIZED_CHARS.toLocaleString('en-US')} (and the model at most ${this.maxTokens} tokens). Select shorter passages.`,
      );
    }
    const encoding = this.tokenizer.encode(text, { maxLength: this.maxTokens, pair: textPair });
    return this.finishPrepare(text, encoding, textPair);
  }

  /** A second text is for encoders, which read a pair with their tokenizer's pair template. */
  private checkPair(textPair: unknown): void {
    if (typeof textPair !== 'string' || textPair.trim().length === 0) {
      throw new BadInputError('The second text of the sentence pair is empty. Give both texts of the pair some words, or explain one text alone.');
    }
    const task = this.card.task;
    if (task === 'causal-lm' || task === 'seq2seq') {
      throw new BadInputError(
        `Sentence pairs are read by encoder models (BERT-style classifiers and masked LMs, which mark the second text with token type 1); this is a ${task === 'causal-lm' ? 'causal language' : 'text-to-text'} model, which reads one text. Join the two texts into one instead.`,
      );
    }
  }

  /** An input given as exact token ids (no tokenizing; offsets are empty). */
  async prepareIds(ids: number[]): Promise<PreparedInput> {
    if (!Array.isArray(ids) || ids.length === 0) throw new BadInputError('No token ids given.');
    const vocab = this.card.vocabSize.value;
    const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || (vocab > 0 && id >= vocab));
    if (bad !== undefined) throw new BadInputError(`Token id ${bad} is outside the vocabulary (0–${vocab - 1}).`);
    if (ids.length > this.maxTokens) throw new BadInputError(`${ids.length} ids are more than the model's limit of ${this.maxTokens} tokens.`);
    const specials = new Set(Object.values(this.tokenizer.special).filter((v): v is number => v !== undefined));
    const encoding: Encoding = {
      ids: [...ids],
      typeIds: ids.map(() => 0),
      tokens: ids.map((id, i) => ({
        id,
        text: this.tokenizer.displayToken(id),
        piece: this.tokenizer.idToPiece(id) ?? '',
        start: 0,
        end: 0,
        special: specials.has(id),
        wordIndex: specials.has(id) ? -1 : i,
        sequence: 0,
      })),
      words: [],
    };
    let w = 0;
    for (const t of encoding.tokens) if (!t.special) t.wordIndex = w++;
    encoding.words = encoding.tokens.flatMap((t, i) => (t.special ? [] : [{ text: t.text, start: 0, end: 0, tokenIndices: [i], sequence: 0 }]));
    return this.finishPrepare('', encoding);
  }

  private async finishPrepare(text: string, encoding: Encoding, textPair?: string): Promise<PreparedInput> {
    const tr = encoding.truncation;
    const truncationMessage = !tr
      ? undefined
      : textPair !== undefined
        ? `The two texts together are longer than the model's limit of ${tr.maxTokens} tokens: ${tr.droppedTokens} tokens (${tr.droppedChars} characters) were cut from the end of the longer text (or of both) and are not part of the analysis.`
        : tr.droppedTokensAtLeast
          ? `The text is longer than the model's limit of ${tr.maxTokens} tokens: only its first ${tr.keptChars.toLocaleString('en-US')} characters are analysed; the last ${tr.droppedChars.toLocaleString('en-US')} characters (at least ${tr.droppedTokens.toLocaleString('en-US')} tokens) were cut.`
          : `The text is longer than the model's limit of ${tr.maxTokens} tokens: the last ${tr.droppedTokens} tokens (${tr.droppedChars} characters) were cut and are not part of the analysis.`;
    const pair = textPair !== undefined;
    const segment = (sequence: number) => (pair ? { segment: (sequence === 1 ? 1 : 0) as 0 | 1 } : {});
    const encoded: EncodedText = {
      text,
      ...(pair ? { textPair } : {}),
      tokens: encoding.tokens.map((t) => ({ id: t.id, text: t.text, start: t.start, end: t.end, special: t.special, wordIndex: t.wordIndex, ...segment(t.sequence) })),
      words: encoding.words.map((w) => ({ text: w.text, start: w.start, end: w.end, tokenIndices: w.tokenIndices, ...segment(w.sequence) })),
      truncation: tr ? { maxTokens: tr.maxTokens, droppedTokens: tr.droppedTokens, droppedChars: tr.droppedChars, message: truncationMessage! } : undefined,
    };
    const maskPositions = this.tokenizer.special.mask === undefined ? [] : encoding.ids.flatMap((id, i) => (id === this.tokenizer.special.mask ? [i] : []));
    const task = this.card.task;
    const prepared: PreparedInput = {
      text,
      ...(pair ? { textPair } : {}),
      encoding,
      encoded,
      truncationMessage,
      readSpec: (target) => ({
        task,
        maskTokenIndex: task === 'masked-lm' ? (target?.position ?? maskPositions[0]) : undefined,
        decoderPosition: task === 'seq2seq' ? (target?.position ?? 0) : undefined,
      }),
      baseInput: (locked) => ({
        ids: encoding.ids,
        typeIds: encoding.typeIds,
        locked: encoding.tokens.map((t, i) => t.special || locked.has(i)),
        maskId: this.tokenizer.special.mask,
        emptyId: this.tokenizer.special.bos ?? this.tokenizer.special.eos ?? this.tokenizer.special.unk ?? this.tokenizer.special.pad,
      }),
    };
    if (this.isSeq2seq) {
      const generated = await this.generate(encoding);
      prepared.generated = generated;
      prepared.decoderIds = [this.decoderStartId, ...generated.slice(0, -1)];
      prepared.decoderTokens = generated.map((id) => ({ id, text: this.tokenizer.displayToken(id), start: 0, end: 0, special: id === this.eosId, wordIndex: -1 }));
      encoded.decoder = { tokens: prepared.decoderTokens };
    }
    return prepared;
  }

  private get decoderStartId(): number {
    const v = this.config.decoder_start_token_id ?? this.config.pad_token_id;
    return typeof v === 'number' ? v : 0;
  }

  private get eosId(): number | undefined {
    const v = this.config.eos_token_id;
    return typeof v === 'number' ? v : this.tokenizer.special.eos;
  }

  /** Greedy decoding of a seq2seq output (the text the model would produce). */
  private async generate(encoding: Encoding): Promise<number[]> {
    const n = encoding.ids.length;
    const ids = tensor([1, n], BigInt64Array.from(encoding.ids.map(BigInt)));
    const mask = tensor([1, n], new BigInt64Array(n).fill(1n));
    const encoder = await this.session('encoder', false);
    const hidden = (await encoder.run({ input_ids: ids, attention_mask: mask })).last_hidden_state;
    const decoder = await this.session(this.decoderRole, false);
    const out: number[] = [];
    const dec = [this.decoderStartId];
    for (let step = 0; step < MAX_GENERATED_TOKENS; step++) {
      const r = await decoder.run({
        decoder_input_ids: tensor([1, dec.length], BigInt64Array.from(dec.map(BigInt))),
        encoder_hidden_states: hidden,
        encoder_attention_mask: mask,
      });
      const logits = r.logits.data as Float32Array;
      const v = r.logits.dims[2];
      const row = logits.subarray((dec.length - 1) * v, dec.length * v);
      let best = 0;
      for (let i = 1; i < v; i++) if (row[i] > row[best]) best = i;
      out.push(best);
      dec.push(best);
      if (best === this.eosId) break;
    }
    return out;
  }

  /** Whether a row's outputs depend on the rows run with it (dynamic int8 quantization; see EvaluatorOptions). */
  get rowsDependOnBatch(): boolean {
    return this.inspected.dynamicQuantization;
  }

  /** The batched evaluator for variants of this input (seq2seq: per decoder prefix). */
  evaluatorFor(input: PreparedInput): BatchedEvaluator {
    const decoderIds = input.decoderIds;
    const key = decoderIds ? decoderIds.join(',') : 'main';
    let evaluator = this.evaluators.get(key);
    if (evaluator) return evaluator;
    const vocab = Math.max(1, this.card.vocabSize.value);
    // A seq2seq decoder's logits are [batch, output positions, vocabulary] for every row; a masked or causal LM's
    // are read at one position per row (see runMain), so they bound the rows of a batch, not its tokens.
    const decoderWidth = decoderIds ? vocab * 4 * decoderIds.length : 0;
    const maxBatchTokens = Math.max(64, Math.min(8192, decoderWidth ? Math.floor(LOGITS_BUDGET_BYTES / decoderWidth) : 8192));
    const headRows = this.readsOnePosition ? Math.max(1, Math.floor(LOGITS_BUDGET_BYTES / (vocab * 4))) : undefined;
    const maxBatchRows = Math.min(headRows ?? Infinity, DEFAULT_EVALUATOR_OPTIONS.maxBatchRows);
    const runner = decoderIds ? (b: PaddedBatch) => this.runSeq2seq(b, decoderIds) : (b: PaddedBatch) => this.runMain(b);
    evaluator = new BatchedEvaluator(runner, { padId: this.tokenizer.special.pad ?? 0, maxBatchTokens, maxBatchRows, rowsDependOnBatch: this.rowsDependOnBatch, ...this.batchMemory(decoderIds?.length) });
    if (this.evaluators.size > 8) this.evaluators.clear();
    this.evaluators.set(key, evaluator);
    return evaluator;
  }

  /**
   * What bounds a batch's activations ({@link rowActivationBytes}): the model's layers, heads and width from its card
   * (a text-to-text model's decoder adds its own over `decoderTokens`); nothing when the card lacks them.
   */
  batchMemory(decoderTokens = 0): Pick<EvaluatorOptions, 'rowBytes' | 'maxBatchBytes'> {
    const shape = { layers: this.card.layers.value, heads: this.card.heads.value, hidden: this.card.hiddenSize.value };
    if (!shape.layers || !shape.heads) return {};
    const decoder = { ...shape, layers: this.card.decoderLayers?.value ?? 0 };
    return {
      rowBytes: (tokens) => rowActivationBytes(shape, tokens) + (decoderTokens ? rowActivationBytes(decoder, decoderTokens, tokens) : 0),
      maxBatchBytes: BATCH_ACTIVATION_BYTES,
    };
  }

  /** A masked or causal LM: its logits are per position, and a prediction reads one of them. */
  private get readsOnePosition(): boolean {
    return this.card.task === 'masked-lm' || this.card.task === 'causal-lm';
  }

  /**
   * The main graph with its output head applied only at the read positions ({@link readPositionGraph}), checked
   * once against the whole graph on the first batch's first row (relative differences up to 1e-4 are the float
   * round-off of a smaller matrix product); undefined when the head cannot be cut or the check fails. Once the cut
   * head is in use the whole graph's session is released, so the weights are not held twice; it is made again
   * when something needs every position (the logit lens).
   */
  private readHead(first: PaddedBatch): Promise<ModelSession | undefined> {
    if (!this.readHeadSession) {
      this.readHeadSession = (async () => {
        if (!this.readsOnePosition) return undefined;
        const wholeSession = await this.session(this.mainRole, false);
        if (readPositionCut(wholeSession.model) === undefined) return undefined;
        const one = sliceBatch(first, 0, 1);
        const whole = (await this.runWholeAtPositions(wholeSession, one)).logits;
        // One copy of the weights at a time: the whole graph's session goes before the cut graph is read and built.
        await this.releaseSession(this.mainRole, false);
        // A head that cannot be built leaves the whole graph in use (made again on demand), never a failed model.
        const head = await this.createReadHead().catch(() => undefined);
        collectGarbage();
        if (!head) return undefined;
        const cut = (await this.runReadPositions(head, one)).logits;
        const v = whole.dims[2];
        let same = cut.dims.length === 3 && cut.dims[1] === 1 && cut.dims[2] === v;
        for (let i = 0; same && i < v; i++) same = Math.abs(whole.data[i] - cut.data[i]) <= 1e-4 * Math.max(1, Math.abs(whole.data[i]));
        if (same) return head;
        await head.release();
        return undefined;
      })();
    }
    return this.readHeadSession;
  }

  /**
   * The session of the graph cut for the read positions. The file's bytes are dropped before the runtime reads the cut
   * copy, and that copy dies with this call: at most one model-sized buffer beside the runtime's own copies.
   */
  private async createReadHead(): Promise<ModelSession | undefined> {
    const bytes = this.readPositionBytes();
    collectGarbage();
    if (!bytes) return undefined;
    return ModelSession.create(bytes, parseOnnxModel(bytes, 'read-position head'), {
      // External data (`model.onnx_data`) is read beside the model file, not from the working directory.
      modelFile: this.files.graphs[this.mainRole],
      expose: false,
      executionProviders: this.options.executionProviders,
      intraOpNumThreads: this.options.threads,
    });
  }

  private readPositionBytes(): Uint8Array | undefined {
    const graph = loadGraphFile(this.files.graphs[this.mainRole]!, this.files.folder);
    return readPositionGraph(graph.bytes, graph.model);
  }

  private async releaseSession(role: GraphRole, expose: boolean): Promise<void> {
    const key = `${role}:${expose}`;
    const session = this.sessions.get(key);
    this.sessions.delete(key);
    await session?.then((x) => x.release()).catch(() => undefined);
  }

  private async runReadPositions(head: ModelSession, b: PaddedBatch): Promise<BatchOutputs> {
    const rows = BigInt64Array.from(b.readPositions!, (p, r) => BigInt(r * b.seqLen + p));
    const out = await head.run({ ...mainFeeds(head, b), [READ_ROWS_INPUT]: tensor([b.batch], rows) });
    return { logits: { dims: out.logits.dims, data: out.logits.data as Float32Array } };
  }

  private async runMain(b: PaddedBatch): Promise<BatchOutputs> {
    if (b.readPositions && this.readsOnePosition) {
      const head = await this.readHead(b);
      if (head) return this.runReadPositions(head, b);
      return this.runWholeAtPositions(await this.session(this.mainRole, false), b);
    }
    const session = await this.session(this.mainRole, false);
    const out = await session.run(mainFeeds(session, b));
    return { logits: { dims: out.logits.dims, data: out.logits.data as Float32Array } };
  }

  /** The whole graph's logits at the read positions, [batch, 1, V], run in chunks whose full logits fit the budget. */
  private async runWholeAtPositions(session: ModelSession, b: PaddedBatch): Promise<BatchOutputs> {
    const positions = b.readPositions!;
    const vocab = Math.max(1, this.card.vocabSize.value);
    const chunk = Math.max(1, Math.floor(LOGITS_BUDGET_BYTES / (b.seqLen * vocab * 4)));
    let data: Float32Array | undefined;
    let v = 0;
    for (let from = 0; from < b.batch; from += chunk) {
      const part = sliceBatch(b, from, Math.min(b.batch, from + chunk));
      const out = (await session.run(mainFeeds(session, part))).logits;
      v = out.dims[2];
      data ??= new Float32Array(b.batch * v);
      const all = out.data as Float32Array;
      for (let r = 0; r < part.batch; r++) {
        const o = (r * b.seqLen + positions[from + r]) * v;
        data.set(all.subarray(o, o + v), (from + r) * v);
      }
    }
    return { logits: { dims: [b.batch, 1, v], data: data! } };
  }

  private async runSeq2seq(b: PaddedBatch, decoderIds: number[]): Promise<BatchOutputs> {
    const encoder = await this.session('encoder', false);
    const mask = tensor([b.batch, b.seqLen], b.attentionMask);
    const hidden = (await encoder.run({ input_ids: tensor([b.batch, b.seqLen], b.inputIds), attention_mask: mask })).last_hidden_state;
    const decoder = await this.session(this.decoderRole, false);
    const t = decoderIds.length;
    const dec = new BigInt64Array(b.batch * t);
    for (let r = 0; r < b.batch; r++) for (let i = 0; i < t; i++) dec[r * t + i] = BigInt(decoderIds[i]);
    const out = await decoder.run({ decoder_input_ids: tensor([b.batch, t], dec), encoder_hidden_states: hidden, encoder_attention_mask: mask });
    return { logits: { dims: out.logits.dims, data: out.logits.data as Float32Array } };
  }

  /** Runs one input with every attention matrix and hidden state exposed. */
  async runExposed(input: PreparedInput): Promise<ExposedRun> {
    this.checkExposedMemory(input);
    const n = input.encoding.ids.length;
    const ids = tensor([1, n], BigInt64Array.from(input.encoding.ids.map(BigInt)));
    const mask = tensor([1, n], new BigInt64Array(n).fill(1n));
    const typeIds = tensor([1, n], BigInt64Array.from(input.encoding.typeIds.map(BigInt)));
    const attentions: AttentionTensor[] = [];
    const hiddenStates: HiddenStateTensor[] = [];
    const notes: string[] = [];
    const collect = (session: ModelSession, out: Record<string, TensorData>) => {
      const exposed = session.exposed;
      if (!exposed) return;
      notes.push(...exposed.notes);
      for (const a of exposed.attentions) {
        const t = out[a.output];
        if (!t) continue;
        const [bb, h, q, k] = t.dims;
        attentions.push({ layer: a.layer, kind: a.kind, shape: [bb, h, q, k], data: Float32Array.from(t.data as Float32Array) });
      }
      for (const s of exposed.hiddenStates) {
        const t = out[s.output];
        if (!t) continue;
        const [bb, q, d] = t.dims;
        hiddenStates.push({ index: s.index, stack: s.kind, shape: [bb, q, d], data: Float32Array.from(t.data as Float32Array) });
      }
    };
    if (this.isSeq2seq) {
      const encoder = await this.session('encoder', true);
      const encOut = await encoder.run({ input_ids: ids, attention_mask: mask });
      collect(encoder, encOut);
      const decoderIds = input.decoderIds ?? [this.decoderStartId];
      const decoder = await this.session(this.decoderRole, true);
      const t = decoderIds.length;
      const decOut = await decoder.run({
        decoder_input_ids: tensor([1, t], BigInt64Array.from(decoderIds.map(BigInt))),
        encoder_hidden_states: encOut.last_hidden_state,
        encoder_attention_mask: mask,
      });
      collect(decoder, decOut);
    } else {
      const session = await this.session(this.mainRole, true);
      const feeds: Record<string, TensorData> = { input_ids: ids, attention_mask: mask };
      if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = typeIds;
      collect(session, await session.run(feeds));
    }
    attentions.sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind) || a.layer - b.layer);
    hiddenStates.sort((a, b) => (a.stack === b.stack ? a.index - b.index : a.stack === 'encoder' ? -1 : 1));
    const note = attentions.length === 0 ? notes.join(' ') || 'This model hides its attention probabilities.' : notes.length ? notes.join(' ') : undefined;
    return { attentions, hiddenStates, note };
  }

  dispose(): void {
    for (const s of this.sessions.values()) void s.then((x) => x.release()).catch(() => undefined);
    void this.readHeadSession?.then((x) => x?.release()).catch(() => undefined);
    for (const d of this.derived.values()) void d.then((x) => x.session.release()).catch(() => undefined);
    this.derived.clear();
    this.readHeadSession = undefined;
    this.sessions.clear();
    this.evaluators.clear();
  }
}

function kindOrder(kind: AttentionTensor['kind']): number {
  return kind === 'self' ? 0 : kind === 'decoder' ? 1 : 2;
}

function toProtocolCard(c: InspectedCard, files: ModelFiles, tokenizer: Tokenizer): ModelCard {
  const sourced = <T>(f: { value: T; source: 'config' | 'graph' } | undefined, fallback: T) => (f ? { value: f.value, source: f.source } : { value: fallback, source: 'none' as const });
  const tokenizerSha256 = files.tokenizer ? sha256Bytes(files.tokenizer) : '';
  const sha256 =
    c.files.length === 1 ? c.files[0].sha256 : crypto.createHash('sha256').update(c.files.map((f) => `${f.role}:${f.sha256}`).join('\n')).digest('hex');
  return {
    name: path.basename(files.folder),
    path: files.folder,
    files: c.files.map((f) => ({ role: f.role, path: f.path, bytes: f.bytes, sha256: f.sha256 })),
    variant: c.variant,
    availableVariants: files.variants,
    family: c.family.value,
    task: c.task.value,
    labels: c.labels?.value,
    layers: sourced(c.layers, 0),
    decoderLayers: c.decoderLayers ? sourced(c.decoderLayers, 0) : undefined,
    heads: sourced(c.heads, 0),
    hiddenSize: sourced(c.hiddenSize, 0),
    vocabSize: sourced(c.vocabSize, 0),
    maxPositions: sourced(c.maxPositions, 0),
    opset: c.opset,
    parameters: c.parameters,
    bytes: c.files.reduce((s, f) => s + f.bytes, 0),
    sha256,
    tokenizerSha256,
    tokenizerKind: tokenizer.kind,
    quantized: c.quantized,
    inputs: c.inputs.map((i) => ({ name: i.name, type: dataTypeName(i.elemType), shape: (i.shape ?? []).map((d) => d ?? '?') })),
    outputs: c.outputs.map((o) => ({ name: o.name, type: dataTypeName(o.elemType), shape: (o.shape ?? []).map((d) => d ?? '?') })),
    attention: { exposed: c.attention.status === 'exposed' || c.attention.status === 'recomputed', count: c.attention.count, note: c.attention.notes.join(' ') || undefined },
    warnings: c.warnings,
  };
}
