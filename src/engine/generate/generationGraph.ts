import type { LoadedModel } from '../model/loadedModel';
import { ModelError } from '../model/modelError';
import { type GraphRole, loadGraphFile } from '../model/modelFolder';
import { ModelSession } from '../model/modelSession';
import { DataType, editGraph, parseOnnxModel } from '../model/onnxProto';

/** Token ids whose log-probabilities are read, [batch, sequence, k]: k ids per position. */
export const GATHER_INPUT = 'onnxLens/gather_ids';
/** log p of those ids at each position, [batch, sequence, k]. */
export const GATHERED_OUTPUT = 'onnxLens/gathered_logprobs';
/** How many of the most probable next tokens to list, int64 [1]. */
export const TOP_K_INPUT = 'onnxLens/top_k';
/** log-probabilities of the next token (after the last position), [batch, vocabulary]. */
export const LAST_LOGPROBS = 'onnxLens/last_logprobs';
/** The `top_k` most probable next tokens, most probable first (ties: lower id first), and their log-probabilities. */
export const TOP_IDS = 'onnxLens/top_ids';
export const TOP_LOGPROBS = 'onnxLens/top_logprobs';

/**
 * One decoder graph of the model with its next-token arithmetic done inside the runtime: Cast(logits) to
 * float32 → LogSoftmax over the vocabulary at every position, read two ways — GatherElements at the ids of a
 * new input (a perturbed row's generated tokens, for the attribution matrix) and, at the last position,
 * the whole distribution plus TopK (the next token, its log-probability and the alternatives, for generation).
 * A step then hands back a handful of numbers instead of a vocabulary-wide vector, and the normaliser over a
 * large vocabulary runs in the runtime's vector kernels, not in JavaScript. Built by appending nodes to the
 * serialized graph; the model's own nodes, its logits and its present key/values are untouched.
 */
export async function generationSession(model: LoadedModel, role: GraphRole): Promise<ModelSession> {
  const { session } = await model.derivedSession(`${role} with next-token heads`, async () => {
    const file = model.files.graphs[role];
    if (!file) throw new ModelError('not-found', `This model has no ${role} graph.`);
    const graph = loadGraphFile(file, model.files.folder);
    if (!graph.model.graph.outputs.some((o) => o.name === 'logits')) {
      throw new ModelError('unsupported-graph', 'The graph has no "logits" output to read next-token probabilities from.');
    }
    const bytes = editGraph(graph.bytes, graph.model, {
      nodes: [
        { opType: 'Cast', inputs: ['logits'], outputs: ['onnxLens/logits_float'], name: 'onnxLens/logits_float', attributes: [{ name: 'to', int: DataType.FLOAT }] },
        { opType: 'LogSoftmax', inputs: ['onnxLens/logits_float'], outputs: ['onnxLens/logprobs'], name: 'onnxLens/logprobs', attributes: [{ name: 'axis', int: -1 }] },
        { opType: 'GatherElements', inputs: ['onnxLens/logprobs', GATHER_INPUT], outputs: [GATHERED_OUTPUT], name: 'onnxLens/gather', attributes: [{ name: 'axis', int: -1 }] },
        { opType: 'Gather', inputs: ['onnxLens/logprobs', 'onnxLens/last_index'], outputs: [LAST_LOGPROBS], name: 'onnxLens/last', attributes: [{ name: 'axis', int: 1 }] },
        { opType: 'TopK', inputs: [LAST_LOGPROBS, TOP_K_INPUT], outputs: [TOP_LOGPROBS, TOP_IDS], name: 'onnxLens/top', attributes: [{ name: 'axis', int: -1 }] },
      ],
      initializers: [{ name: 'onnxLens/last_index', dataType: DataType.INT64, dims: [], values: [-1] }],
      inputs: [
        { name: GATHER_INPUT, elemType: DataType.INT64, shape: ['batch_size', 'sequence_length', 'gathered'] },
        { name: TOP_K_INPUT, elemType: DataType.INT64, shape: [1] },
      ],
      outputs: [GATHERED_OUTPUT, LAST_LOGPROBS, TOP_LOGPROBS, TOP_IDS],
    });
    const session = await ModelSession.create(bytes, parseOnnxModel(bytes, `${role} with next-token heads`), {
      modelFile: file,
      expose: false,
      executionProviders: model.options.executionProviders,
      intraOpNumThreads: model.options.threads,
    });
    return { session };
  });
  return session;
}
