import type { ActivationsParams, ActivationsResult, HiddenStateTensor } from '../../protocol/engineApi';
import type { LoadedModel } from '../model/loadedModel';
import { BadInputError } from '../process/engineErrors';
import { prepareTextOrIds, stackStates } from './modelGraph';

/** Default number of hidden units listed for the chosen token. */
const DEFAULT_TOP_UNITS = 10;

/** Per-layer statistics of one residual stream, computed from its hidden states. */
export interface ResidualStats {
  /** norms[i][t] = ‖h_i[t]‖ for each hidden state i (0 = entering layer 0) and token t. */
  norms: number[][];
  /** updates[i][t] = ‖h_{i+1}[t] − h_i[t]‖: how much layer i changed token t's residual stream. */
  updates: number[][];
  /** relativeUpdates[i][t] = updates[i][t] / norms[i][t] (0 where the norm is 0). */
  relativeUpdates: number[][];
}

/**
 * Norms of each hidden state and of each layer's update, per token, in float64.
 * @param states one stack's hidden states [1, S, D], ordered by index.
 */
export function residualStats(states: HiddenStateTensor[]): ResidualStats {
  if (states.length === 0) throw new Error('no hidden states');
  const [, seq, dim] = states[0].shape;
  const norms = states.map((s) => {
    const out: number[] = [];
    for (let t = 0; t < seq; t++) {
      let sum = 0;
      for (let d = 0; d < dim; d++) sum += s.data[t * dim + d] ** 2;
      out.push(Math.sqrt(sum));
    }
    return out;
  });
  const updates: number[][] = [];
  const relativeUpdates: number[][] = [];
  for (let i = 0; i + 1 < states.length; i++) {
    const a = states[i].data;
    const b = states[i + 1].data;
    const row: number[] = [];
    for (let t = 0; t < seq; t++) {
      let sum = 0;
      for (let d = 0; d < dim; d++) sum += (b[t * dim + d] - a[t * dim + d]) ** 2;
      row.push(Math.sqrt(sum));
    }
    updates.push(row);
    relativeUpdates.push(row.map((u, t) => (norms[i][t] > 0 ? u / norms[i][t] : 0)));
  }
  return { norms, updates, relativeUpdates };
}

/** The k hidden units of largest |value| for one token of one hidden state (ties: lower unit first). */
export function topUnits(state: HiddenStateTensor, token: number, k: number): { unit: number; value: number }[] {
  const [, seq, dim] = state.shape;
  if (!Number.isInteger(token) || token < 0 || token >= seq) throw new BadInputError(`Token ${token} does not exist: the input has tokens 0–${seq - 1}.`);
  const row = state.data.subarray(token * dim, (token + 1) * dim);
  const order = Array.from({ length: dim }, (_, i) => i).sort((x, y) => Math.abs(row[y]) - Math.abs(row[x]) || x - y);
  return order.slice(0, Math.max(1, Math.min(k, dim))).map((unit) => ({ unit, value: row[unit] }));
}

/**
 * Activations of one text inside the model: per layer and token, the hidden-state norm and the size of the
 * update each layer adds to the residual stream, and the most active hidden units of a chosen token at a
 * chosen hidden state. Hidden states are the ones the engine exposes: index 0 enters layer 0, index i+1
 * leaves layer i (before any final norm).
 */
export async function activations(model: LoadedModel, params: ActivationsParams): Promise<ActivationsResult> {
  const input = await prepareTextOrIds(model, params);
  const exposed = await model.runExposed(input);
  const states = stackStates(exposed.hiddenStates, params.stack);
  if (states.length < 2) {
    throw new BadInputError(exposed.note ?? 'This model exposes no hidden states (no chain of residual connections was found in its graph).');
  }
  const stack = states[0].stack;
  const stats = residualStats(states);
  const seq = states[0].shape[1];
  const hiddenSize = states[0].shape[2];
  const layer = params.layer ?? states.length - 1;
  if (!Number.isInteger(layer) || layer < 0 || layer >= states.length) {
    throw new BadInputError(`Hidden state ${layer} does not exist: this model has hidden states 0–${states.length - 1} (0 enters layer 0, ${states.length - 1} leaves the last layer).`);
  }
  const token = params.token ?? 0;
  const tokens = stack === 'decoder' && input.encoded.decoder && model.isSeq2seq ? input.encoded.decoder.tokens : input.encoded.tokens;
  return {
    encoded: input.encoded,
    stack,
    tokens: tokens.slice(0, seq).map((t) => t.text),
    layers: states.length - 1,
    hiddenSize,
    norms: stats.norms,
    updates: stats.updates,
    relativeUpdates: stats.relativeUpdates,
    top: { state: layer, token, units: topUnits(states[layer], token, params.topUnits ?? DEFAULT_TOP_UNITS) },
    note: exposed.note,
  };
}
