import { WasmGradError } from '../errors';
import { PLAIN_MEMORY_WASM, SHARED_MEMORY_WASM } from './reduction-product.wasm';

/** The kernel's tile: it computes 4 rows × 8 columns of C at a time, so C is padded to these multiples. */
const TILE_ROWS = 4;
const TILE_COLUMNS = 8;
/** Depth walked per pass, in values of B: a pass's slice of B (≈ 64 KB) stays in cache for every tile. */
const CHUNK_VALUES = 16384;
const PAGE_BYTES = 65536;
/** The memory's maximum (1 GiB), which a shared memory reserves up front. */
const MAX_PAGES = 16384;

/** The module's functions (see the .wat): all take byte addresses and sizes, 32-bit integers. */
export const KERNEL_FUNCTIONS = [
  'accumulate',
  'panels',
  'patches',
  'winogradInput',
  'winogradFilter',
  'winogradProducts',
  'winogradOutput',
  'winogradOutputGradient',
  'winogradGradientProducts',
  'winogradFilterGradient',
  'erf',
  'erfGradient',
  'maxPoolGradient',
] as const;

/** One of {@link KERNEL_FUNCTIONS}. */
export type KernelFunction = (typeof KERNEL_FUNCTIONS)[number];

/** The compiled kernel and the memory it works in, one per thread that loads this module. */
export interface ProductKernel {
  /**
   * The compiled module, for helper threads to instantiate over the same (shared) memory. Posting the
   * module rather than its bytes shares its compiled code: a helper compiling its own copy ran V8's
   * baseline code, about half as fast, through whole products (wasm code tiers up between calls only).
   */
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly run: (name: KernelFunction, args: readonly number[]) => void;
}

/**
 * Where a part of a convolution's input sits and what its patches are (TF.js' Conv2DInfo fields, for the
 * images of the part). The patch matrix has filterHeight·filterWidth·inChannels rows and one column per
 * output position of these images.
 */
export interface PatchGeometry {
  readonly images: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  /** Padding rows above and columns left of the input. */
  readonly top: number;
  readonly left: number;
}

/**
 * Another thread running the kernel over the same shared memory: {@link ReductionProduct} hands it a
 * share of the rows of each step. `@imgcls/wasm-grad/node` starts them in Node; browsers have none, as their main
 * thread may not block on one.
 */
export interface ProductHelper {
  /** Starts a kernel function with these arguments on the helper's thread. */
  start(name: KernelFunction, args: readonly number[]): void;
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
    let module: WebAssembly.Module;
    let exports: WebAssembly.Exports;
    try {
      memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared });
      module = new WebAssembly.Module(bytes);
      exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    } catch {
      // Shared memory needs SharedArrayBuffer (cross-origin isolation in browsers); a platform may also
      // refuse to reserve the maximum. Either way the next variant, or XNNPACK, takes over.
      continue;
    }
    kernel = {
      module,
      memory,
      shared,
      run: (name, args) => (exports[name] as (...values: number[]) => void)(...args),
    };
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
 * C[rows, columns] = Σₖ A[rows, k] · B[k, columns] where A is a convolution input's patch matrix (one row
 * per filter tap and input channel, one column per output position) and the summed axis k runs over
 * output positions, accumulated over parts of a batch, in this package's WebAssembly SIMD kernel
 * (`reduction-product.wat`): a convolution's filter gradient, B being the output gradient. tfjs' wasm
 * product (XNNPACK) would first pack B into its own layout, which costs 5–14 ns a value of B on every call
 * (tfjs-backend-wasm 4.22): more than the multiplications when C has few rows. The kernel writes the
 * patches (twice as fast as a JS loop) and lays B out in panels with vector moves; with helper threads
 * ({@link setProductHelpers}) each thread takes a share of the rows of each of those steps. One product at a time
 * per thread: products share the kernel's memory.
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
    this.reserve(0, 0);
    kernelValues(this.kernel).fill(0, 0, this.paddedRows * this.paddedColumns);
  }

  /**
   * A product of a [rows, columns] result taking parts of up to `maxDepth` positions and
   * `maxInputValues` input values, or undefined where WebAssembly SIMD is unavailable or such a part
   * would not fit in the kernel's memory.
   */
  static start(
    rows: number,
    columns: number,
    maxDepth: number,
    maxInputValues: number,
  ): ReductionProduct | undefined {
    const loaded = productKernel();
    if (!loaded) return undefined;
    const paddedRows = Math.ceil(rows / TILE_ROWS) * TILE_ROWS;
    const paddedColumns = Math.ceil(columns / TILE_COLUMNS) * TILE_COLUMNS;
    const values =
      paddedRows * paddedColumns + (paddedRows + 2 * paddedColumns) * maxDepth + maxInputValues;
    if (!fitsKernelMemory(values)) return undefined;
    return new ReductionProduct(loaded, rows, columns);
  }

  /**
   * Adds the patches of `input` (the part's images, NHWC, laid out as `geometry` says) times `b`, B as
   * [images·outHeight·outWidth, columns] row-major.
   */
  accumulate(input: Float32Array, geometry: PatchGeometry, b: Float32Array): void {
    const { paddedRows, paddedColumns, rows, columns } = this;
    const g = geometry;
    if (g.filterHeight * g.filterWidth * g.inChannels !== rows)
      throw new WasmGradError(
        'INTERNAL_ERROR',
        `A ${rows}-row product was given patches of another geometry: a bug in @imgcls/wasm-grad, please report it.`,
      );
    const depth = g.images * g.outHeight * g.outWidth;
    if (depth === 0) return;
    const inputValues = g.images * g.inHeight * g.inWidth * g.inChannels;
    this.reserve(depth, inputValues);
    const values = kernelValues(this.kernel);
    // C, A, B in panels, the input, B as given (with its columns padded).
    const aStart = paddedRows * paddedColumns;
    const bStart = aStart + paddedRows * depth;
    const xStart = bStart + depth * paddedColumns;
    const stagingStart = xStart + inputValues;
    values.set(input.subarray(0, inputValues), xStart);
    values.fill(0, aStart + rows * depth, bStart);
    if (columns === paddedColumns) {
      values.set(b.subarray(0, depth * columns), stagingStart);
    } else {
      for (let k = 0; k < depth; k++) {
        const row = stagingStart + k * paddedColumns;
        values.set(b.subarray(k * columns, (k + 1) * columns), row);
        values.fill(0, row + columns, row + paddedColumns);
      }
    }
    // Patch rows and B's rows shared out as evenly as they go, then tiles of C's rows.
    runOnThreads(this.kernel, 'patches', rows, 1, (first, last) => [
      xStart * 4,
      aStart * 4,
      g.images,
      g.inHeight,
      g.inWidth,
      g.inChannels,
      g.outHeight,
      g.outWidth,
      g.filterWidth,
      g.strideHeight,
      g.strideWidth,
      g.top,
      g.left,
      first,
      last,
    ]);
    runOnThreads(this.kernel, 'panels', depth, 1, (first, last) => [
      stagingStart * 4,
      bStart * 4,
      depth,
      paddedColumns,
      first,
      last,
    ]);
    const chunk = Math.max(TILE_ROWS, Math.floor(CHUNK_VALUES / paddedColumns));
    runOnThreads(this.kernel, 'accumulate', paddedRows, TILE_ROWS, (first, last) => [
      (aStart + first * depth) * 4,
      bStart * 4,
      first * paddedColumns * 4,
      last - first,
      depth,
      paddedColumns,
      chunk,
      depth * 4,
      4,
    ]);
  }

  /** The accumulated C as a new [rows, columns] row-major array. */
  result(): Float32Array {
    const values = kernelValues(this.kernel);
    if (this.columns === this.paddedColumns) return values.slice(0, this.rows * this.columns);
    const result = new Float32Array(this.rows * this.columns);
    for (let row = 0; row < this.rows; row++) {
      const from = row * this.paddedColumns;
      result.set(values.subarray(from, from + this.columns), row * this.columns);
    }
    return result;
  }

  /** Grows the kernel's memory to hold C, A and B (twice) for `depth` positions, and the input. */
  private reserve(depth: number, inputValues: number): void {
    const values =
      this.paddedRows * this.paddedColumns +
      (this.paddedRows + 2 * this.paddedColumns) * depth +
      inputValues;
    growMemory(this.kernel, values);
  }
}

/** Whether `values` floats fit in the kernel's memory. */
export function fitsKernelMemory(values: number): boolean {
  return values * 4 <= MAX_PAGES * PAGE_BYTES;
}

/** Grows the kernel's memory to hold at least `values` floats. */
export function growMemory(kernel: ProductKernel, values: number): void {
  const { memory } = kernel;
  const missing = Math.ceil((values * 4) / PAGE_BYTES) - memory.buffer.byteLength / PAGE_BYTES;
  if (missing > 0) memory.grow(missing);
}

/**
 * A view of the kernel's memory, taken anew: growing a plain memory detaches earlier views (a shared
 * one keeps them, but at their old length).
 */
export function kernelValues(kernel: ProductKernel): Float32Array {
  return new Float32Array(kernel.memory.buffer);
}

/**
 * Runs `name` over `count` rows in blocks of `block`, split between this thread (the first share) and
 * the helpers, and returns when all are done.
 */
export function runOnThreads(
  kernel: ProductKernel,
  name: KernelFunction,
  count: number,
  block: number,
  args: (first: number, last: number) => number[],
): void {
  const blocks = Math.ceil(count / block);
  const threads = kernel.shared ? Math.min(blocks, helpers.length + 1) : 1;
  const share = (thread: number) => {
    const first = Math.floor((blocks * thread) / threads) * block;
    const last = Math.min(count, Math.floor((blocks * (thread + 1)) / threads) * block);
    return args(first, last);
  };
  for (let thread = 1; thread < threads; thread++)
    (helpers[thread - 1] as ProductHelper).start(name, share(thread));
  try {
    kernel.run(name, share(0));
  } finally {
    for (let thread = 1; thread < threads; thread++)
      (helpers[thread - 1] as ProductHelper).finish();
  }
}
