/**
 * Downsampling a metric series for a chart of a given width, on typed arrays.
 *
 * Default: min/max buckets. The visible x-range is cut into equal-width buckets; each bucket
 * keeps the points holding its minimum and its maximum y, in their original order, so a single
 * spike survives any zoom level (averaging or picking every k-th point hides them, the common
 * complaint about TensorBoard and MLflow charts). The first and last points of the range are
 * always kept so the line spans the full view. LTTB (Steinarsson 2013) is here too for views
 * that prefer shape over extremes.
 *
 * Inputs: x ascending (episode, env step or wall time), y of the same length. Non-finite y
 * values are skipped.
 */

export interface XY {
  x: Float64Array;
  y: Float64Array;
}

/** First index with x[i] >= v (x ascending), searching [lo, hi). */
export function lowerBound(x: ArrayLike<number>, v: number, lo = 0, hi = x.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with x[i] > v (x ascending), searching [lo, hi). */
export function upperBound(x: ArrayLike<number>, v: number, lo = 0, hi = x.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index range [start, end) of the points with from <= x <= to (x ascending). */
export function rangeIndices(x: ArrayLike<number>, from?: number, to?: number): [number, number] {
  const start = from === undefined ? 0 : lowerBound(x, from);
  const end = to === undefined ? x.length : upperBound(x, to, start);
  return [start, Math.max(start, end)];
}

function copyRange(x: ArrayLike<number>, y: ArrayLike<number>, start: number, end: number): XY {
  const n = end - start;
  const ox = new Float64Array(n);
  const oy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ox[i] = x[start + i];
    oy[i] = y[start + i];
  }
  return { x: ox, y: oy };
}

/**
 * Min/max bucket downsampling of points [start, end) to at most `maxPoints` points (>= 2).
 * Returns the points unchanged (copied) when there are no more than `maxPoints`.
 */
export function minMaxDownsample(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  maxPoints: number,
  start = 0,
  end = x.length,
): XY {
  const n = end - start;
  const cap = Math.max(2, Math.floor(maxPoints));
  if (n <= cap) return copyRange(x, y, start, end);
  const buckets = Math.max(0, Math.floor((cap - 2) / 2));
  const ox = new Float64Array(2 * buckets + 2);
  const oy = new Float64Array(2 * buckets + 2);
  let k = 0;
  ox[k] = x[start];
  oy[k++] = y[start];
  const first = start + 1;
  const last = end - 1; // exclusive end of the interior
  const x0 = x[start];
  const span = x[end - 1] - x0;
  // Equal-width buckets in x; if x does not advance (all equal), fall back to equal counts.
  const byX = span > 0 && Number.isFinite(span);
  let i = first;
  for (let b = 0; b < buckets && i < last; b++) {
    // Bucket b ends where x reaches its upper edge: a binary search, then a tight loop.
    const bEnd =
      b === buckets - 1
        ? last
        : byX
          ? lowerBound(x, x0 + (span * (b + 1)) / buckets, i, last)
          : first + Math.floor(((last - first) * (b + 1)) / buckets);
    let minI = -1;
    let maxI = -1;
    let minV = Infinity;
    let maxV = -Infinity;
    for (; i < bEnd; i++) {
      const v = y[i];
      if (v < minV) {
        minV = v;
        minI = i;
      }
      if (v > maxV) {
        maxV = v;
        maxI = i;
      }
    }
    if (minI < 0 && maxI < 0) continue; // empty, or only NaN
    if (minI < 0) minI = maxI;
    if (maxI < 0) maxI = minI;
    const a = minI < maxI ? minI : maxI;
    const c = minI < maxI ? maxI : minI;
    ox[k] = x[a];
    oy[k++] = y[a];
    if (c !== a) {
      ox[k] = x[c];
      oy[k++] = y[c];
    }
  }
  ox[k] = x[end - 1];
  oy[k++] = y[end - 1];
  return { x: ox.subarray(0, k), y: oy.subarray(0, k) };
}

/**
 * Largest-Triangle-Three-Buckets downsampling of points [start, end) to `maxPoints` (>= 3):
 * keeps the visual shape, but may drop isolated extremes that min/max keeps.
 */
export function lttb(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints: number, start = 0, end = x.length): XY {
  const n = end - start;
  const m = Math.max(3, Math.floor(maxPoints));
  if (n <= m) return copyRange(x, y, start, end);
  const ox = new Float64Array(m);
  const oy = new Float64Array(m);
  const every = (n - 2) / (m - 2);
  let a = start;
  ox[0] = x[a];
  oy[0] = y[a];
  for (let i = 0; i < m - 2; i++) {
    // Average of the next bucket: the third vertex of the triangle.
    const nStart = start + Math.floor((i + 1) * every) + 1;
    const nEnd = Math.min(end, start + Math.floor((i + 2) * every) + 1);
    let ax = 0;
    let ay = 0;
    let cnt = 0;
    for (let j = nStart; j < nEnd; j++) {
      ax += x[j];
      ay += y[j];
      cnt++;
    }
    ax /= Math.max(1, cnt);
    ay /= Math.max(1, cnt);
    const bStart = start + Math.floor(i * every) + 1;
    const bEnd = start + Math.floor((i + 1) * every) + 1;
    let best = bStart;
    let bestArea = -1;
    for (let j = bStart; j < bEnd; j++) {
      const area = Math.abs((x[a] - ax) * (y[j] - y[a]) - (x[a] - x[j]) * (ay - y[a]));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    ox[i + 1] = x[best];
    oy[i + 1] = y[best];
    a = best;
  }
  ox[m - 1] = x[end - 1];
  oy[m - 1] = y[end - 1];
  return { x: ox, y: oy };
}

/**
 * Resample a series onto a common grid of equal-width cells centred on `grid` (ascending,
 * equally spaced): each cell's value is the mean of the points inside it; empty cells between
 * two filled ones are linearly interpolated; cells outside the series' own x-range are NaN (a
 * seed that has not reached that x does not contribute to a band there).
 */
export function toGrid(x: ArrayLike<number>, y: ArrayLike<number>, grid: ArrayLike<number>): Float64Array {
  const g = grid.length;
  const out = new Float64Array(g).fill(NaN);
  const n = x.length;
  if (g === 0 || n === 0) return out;
  const step = g > 1 ? grid[1] - grid[0] : 0;
  const sums = new Float64Array(g);
  const counts = new Uint32Array(g);
  const x0 = grid[0] - step / 2;
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (!Number.isFinite(v)) continue;
    let c = step > 0 ? Math.floor((x[i] - x0) / step) : 0;
    if (c < 0 || c >= g) {
      // Points just outside the grid (rounding) land in the edge cells.
      if (c < 0 && x[i] >= grid[0] - step) c = 0;
      else if (c >= g && x[i] <= grid[g - 1] + step) c = g - 1;
      else continue;
    }
    sums[c] += v;
    counts[c]++;
  }
  let prev = -1;
  for (let c = 0; c < g; c++) {
    if (counts[c] === 0) continue;
    out[c] = sums[c] / counts[c];
    if (prev >= 0 && c - prev > 1) {
      for (let j = prev + 1; j < c; j++) out[j] = out[prev] + ((out[c] - out[prev]) * (j - prev)) / (c - prev);
    }
    prev = c;
  }
  return out;
}
