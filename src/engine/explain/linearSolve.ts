/**
 * Solves A x = b for a symmetric positive (semi-)definite A (row-major, size m×m) by Cholesky factorisation.
 *
 * A singular or nearly singular system (too few distinct samples for the number of features) gets a tiny
 * ridge, 1e-10 × the mean diagonal, so the answer is the minimum-norm-like solution instead of garbage; the
 * second element of the result says whether that happened. O(m³/3).
 */
export function solveSymmetric(a: Float64Array, b: Float64Array, m: number): { x: Float64Array; regularised: boolean } {
  let trace = 0;
  for (let i = 0; i < m; i++) trace += a[i * m + i];
  const meanDiag = m > 0 ? trace / m : 0;
  const first = cholesky(a, m, 0, meanDiag);
  if (first) return { x: substitute(first, b, m), regularised: false };
  const ridge = (meanDiag > 0 ? meanDiag : 1) * 1e-10;
  for (let attempt = 0; attempt < 8; attempt++) {
    const l = cholesky(a, m, ridge * 100 ** attempt, meanDiag);
    if (l) return { x: substitute(l, b, m), regularised: true };
  }
  throw new Error('the regression system could not be solved (it is not positive semi-definite)');
}

function cholesky(a: Float64Array, m: number, ridge: number, meanDiag: number): Float64Array | undefined {
  const l = new Float64Array(m * m);
  // A pivot this small relative to the diagonal means the system is singular to working precision.
  const tiny = Math.max(meanDiag, 1e-300) * 1e-13;
  for (let j = 0; j < m; j++) {
    let d = a[j * m + j] + ridge;
    for (let k = 0; k < j; k++) d -= l[j * m + k] * l[j * m + k];
    if (!(d > tiny)) return undefined;
    const ljj = Math.sqrt(d);
    l[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let s = a[i * m + j];
      for (let k = 0; k < j; k++) s -= l[i * m + k] * l[j * m + k];
      l[i * m + j] = s / ljj;
    }
  }
  return l;
}

function substitute(l: Float64Array, b: Float64Array, m: number): Float64Array {
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * m + k] * y[k];
    y[i] = s / l[i * m + i];
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < m; k++) s -= l[k * m + i] * x[k];
    x[i] = s / l[i * m + i];
  }
  return x;
}
