import type { MethodEstimate } from './estimate';

type EstimateError = NonNullable<MethodEstimate['error']>;

/** Largest absolute change per feature since the previous estimate. */
export function changeBetween(current: Float64Array, previous: Float64Array): EstimateError {
  const perFeature = new Float64Array(current.length);
  let max = 0;
  for (let j = 0; j < current.length; j++) {
    perFeature[j] = Math.abs(current[j] - previous[j]);
    if (perFeature[j] > max) max = perFeature[j];
  }
  return { perFeature, max, kind: 'change-between-rounds' };
}

/**
 * Batch-means standard error: each batch (round) gave an independent estimate from its own samples; the
 * estimate from all of them varies about 1/√k as much as one batch does, so SE_j ≈ sd_j / √k. Needs k ≥ 2.
 */
export function batchMeansError(batchEstimates: Float64Array[]): EstimateError {
  const k = batchEstimates.length;
  if (k < 2) throw new Error('batch-means needs at least two batches');
  const n = batchEstimates[0].length;
  const perFeature = new Float64Array(n);
  let max = 0;
  for (let j = 0; j < n; j++) {
    let mean = 0;
    for (const e of batchEstimates) mean += e[j];
    mean /= k;
    let ss = 0;
    for (const e of batchEstimates) ss += (e[j] - mean) ** 2;
    perFeature[j] = Math.sqrt(ss / (k - 1) / k);
    if (perFeature[j] > max) max = perFeature[j];
  }
  return { perFeature, max, kind: 'std-error' };
}
