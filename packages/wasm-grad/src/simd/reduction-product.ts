import { PLAIN_MEMORY_WASM, SHARED_MEMORY_WASM } from './reduction-product.wasm';

/** The kernel's tile: it computes 4 rows × 8 columns of C at a time, so C is padded to these multiples. */
const TILE_ROWS = 4;
const TILE_COLUMNS = 8;
/** Depth walked per pass, in values of B: a pass's slice of B (≈ 64 KB) stays in cache for every tile. */
const CHUNK_VALUES = 16384;
const PAGE_BYTES = 65536;
/** The memory's maximum (1 GiB), which a shared memory reserves up front. */
const MAX_PAGES = 16384;

type Accumulate = (
  a: number,
  b: number,
  c: number,
  rows: number,
  depth: number,
  columns: number,
  chunk: number,
) => void;

/** The compiled kernel and the memory it works in, one per thread that loads this module. */
export interface ProductKernel {
  /** The module's binary, for helper threads to instantiate over the same (shared) memory. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly accumulate: Accumulate;
}

/**
 * Another thread running the kernel over the same shared memory: {@link ReductionProduct} hands it a
 * share of C's rows. `@imgcls/wasm-grad/node` starts them in Node; browsers have none, as their main
 * thread may not block on one.
 */
export interface ProductHelper {
  /** Starts `accumulate` with these arguments on the helper's thread. */
  start(args: readonly number[]): void;
  /** Blocks until the call started last returns. @throws WasmGradError if it failed. */
  finish(): void;
}

let kernel: ProductKernel | null | undefined;
let helpers: readonly ProductHelper[] = [];

/**
 * The kernel, instantiated once per thread over a memory that grows to the largest product and is
 * reused by every product (shared when the platform allows, so helper threads can join), or null where
 * WebAssembly SIMD is unavailable.
 */
export function productKernel(): ProductKernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  if (typeof WebAssembly !== 'object') return kernel;
  for (const shared of [true, false]) {
    const bytes = decodeBase64(shared ? SHARED_MEMORY_WASM : PLAIN_MEMORY_WASM);
    if (!WebAssembly.validate(bytes)) continue;
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared });
    } catch {
      continue; // shared memory needs SharedArrayBuffer (cross-origin isolation in browsers)
    }
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    kernel = { bytes, memory, shared, accumulate: instance.exports.accumulate as Accumulate };
    return kernel;
  }
  return kernel;
}

/** Lets products split their rows with these helper threads (replacing any set before). */
export function setProductHelpers(next: readonly ProductHelper[]): void {
  helpers = next;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const characters = atob(text);
  const bytes = new Uint8Array(characters.length);
  for (let index = 0; index < characters.length; index++)
    bytes[index] = characters.charCodeAt(index);
  return bytes;
}

/**
 * C[rows, columns] = Σₖ A[rows, k] · B[k, columns] for a long summed axis k, accumulated over parts of
 * that axis, in this package's WebAssembly SIMD kernel (`reduction-product.wat`). A convolution's filter
 * gradient is such a product: a small result summed over every output position of the batch. tfjs'
 * wasm product (XNNPACK) would first pack B into its own layout, which costs 5–14 ns a value of B on
 * every call (tfjs-backend-wasm 4.22): more than the multiplications when C has few rows. This kernel
 * reads A and B where the caller wrote them; with helper threads ({@link setProductHelpers}) each thread
 * computes a share of C's rows. One product at a time per thread: products share the kernel's memory.
 */
export class ReductionProduct {
  private readonly paddedRows: number;
  private readonly paddedColumns: number;

  private constructor(
    private readonly kernel: ProductKernel,
    private readonly rows: number,
    private readonly columns: number,
  ) {
    this.paddedRows = Math.ceil(rows / TILE_ROWS) * TILE_ROWS;
    this.paddedColumns = Math.ceil(columns / TILE_COLUMNS) * TILE_COLUMNS;
    this.reserve(0);
    this.values().fill(0, 0, this.paddedRows * this.paddedColumns);
  }

  /**
   * A product of a [rows, columns] result taking parts of up to `maxDepth` positions, or undefined
   * where WebAssembly SIMD is unavailable or such a part would not fit in the kernel's memory.
   */
  static start(rows: number, columns: number, maxDepth: number): ReductionProduct | undefined {
    const loaded = productKernel();
    if (!loaded) return undefined;
    const paddedRows = Math.ceil(rows / TILE_ROWS) * TILE_ROWS;
    const paddedColumns = Math.ceil(columns / TILE_COLUMNS) * TILE_COLUMNS;
    const values = paddedRows * paddedColumns + (paddedRows + paddedColumns) * maxDepth;
    if (values * 4 > MAX_PAGES * PAGE_BYTES) return undefined;
    return new ReductionProduct(loaded, rows, columns);
  }

  /**
   * Adds A·B over `depth` more positions of the summed axis. `writeA` receives A's [rows, depth] view
   * (row-major) to fill; `b` holds B as [depth, columns], row-major.
   */
  accumulate(depth: number, writeA: (a: Float32Array) => void, b: Float32Array): void {
    if (depth === 0) return;
    const { paddedRows, paddedColumns, rows, columns } = this;
    this.reserve(depth);
    const values = this.values();
    const aStart = paddedRows * paddedColumns;
    const bStart = aStart + paddedRows * depth;
    writeA(values.subarray(aStart, aStart + rows * depth));
    values.fill(0, aStart + rows * depth, bStart);
    if (columns === paddedColumns) {
      values.set(b.subarray(0, depth * columns), bStart);
    } else {
      for (let k = 0; k < depth; k++) {
        const row = bStart + k * paddedColumns;
        values.set(b.subarray(k * columns, (k + 1) * columns), row);
        values.fill(0, row + columns, row + paddedColumns);
      }
    }
    const chunk = Math.max(TILE_ROWS, Math.floor(CHUNK_VALUES / paddedColumns));
    // Tiles of rows, shared out as evenly as they go; the calling thread takes the first share.
    const blocks = paddedRows / TILE_ROWS;
    const threads = this.kernel.shared ? Math.min(blocks, helpers.length + 1) : 1;
    const shares = Array.from({ length: threads }, (_, thread) => {
      const first = Math.floor((blocks * thread) / threads) * TILE_ROWS;
      const last = Math.floor((blocks * (thread + 1)) / threads) * TILE_ROWS;
      return [
        (aStart + first * depth) * 4,
        bStart * 4,
        first * paddedColumns * 4,
        last - first,
        depth,
        paddedColumns,
        chunk,
      ];
    });
    for (let thread = 1; thread < threads; thread++)
      (helpers[thread - 1] as ProductHelper).start(shares[thread] as number[]);
    try {
      this.kernel.accumulate(...(shares[0] as Parameters<Accumulate>));
    } finally {
      for (let thread = 1; thread < threads; thread++)
        (helpers[thread - 1] as ProductHelper).finish();
    }
  }

  /** The accumulated C as a new [rows, columns] row-major array. */
  result(): Float32Array {
    const values = this.values();
    if (this.columns === this.paddedColumns) return values.slice(0, this.rows * this.columns);
    const result = new Float32Array(this.rows * this.columns);
    for (let row = 0; row < this.rows; row++) {
      const from = row * this.paddedColumns;
      result.set(values.subarray(from, from + this.columns), row * this.columns);
    }
    return result;
  }

  /** Grows the kernel's memory to hold C, then A and B for `depth` positions. */
  private reserve(depth: number): void {
    const values =
      this.paddedRows * this.paddedColumns + (this.paddedRows + this.paddedColumns) * depth;
    const { memory } = this.kernel;
    const missing = Math.ceil((values * 4) / PAGE_BYTES) - memory.buffer.byteLength / PAGE_BYTES;
    if (missing > 0) memory.grow(missing);
  }

  /**
   * A view of the kernel's memory, taken anew: growing a plain memory detaches earlier views (a shared
   * one keeps them, but at their old length).
   */
  private values(): Float32Array {
    return new Float32Array(this.kernel.memory.buffer);
  }
}
