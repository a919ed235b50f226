import { WasmGradError } from '../errors';
import { growMemory, kernelValues, type ProductKernel, runOnThreads } from './reduction-product';

/** Values per pass: each array's slot in the kernel's memory (16 MB), so a call's memory is bounded. */
const SLOT_VALUES = 1 << 22;
/** Values a thread takes at the least: below this a handoff (tens of microseconds) costs more than it saves. */
const MIN_VALUES_PER_THREAD = 1 << 14;

/** The kernel's element-wise functions, with their number of inputs. */
const ARITY = { erf: 1, erfGradient: 2 } as const;

/**
 * `output[i] = name(inputs…[i])` for every value, in the SIMD kernel (`erf`: erf(x); `erfGradient`: the
 * gradient of erf at x times dy, inputs [x, dy]), in passes of at most 4M values shared between threads.
 */
export function mapValues(
  kernel: ProductKernel,
  name: keyof typeof ARITY,
  inputs: readonly Float32Array[],
  output: Float32Array,
): void {
  if (inputs.length !== ARITY[name])
    throw new WasmGradError(
      'INTERNAL_ERROR',
      `${name} takes ${ARITY[name]} inputs, got ${inputs.length}: a bug in @imgcls/wasm-grad, please report it.`,
    );
  growMemory(kernel, (inputs.length + 1) * SLOT_VALUES);
  const slotBytes = SLOT_VALUES * 4;
  for (let start = 0; start < output.length; start += SLOT_VALUES) {
    const count = Math.min(SLOT_VALUES, output.length - start);
    // The kernel takes 4 values at a time: the last group is padded with zeros.
    const padded = Math.ceil(count / 4) * 4;
    const values = kernelValues(kernel);
    inputs.forEach((input, slot) => {
      values.set(input.subarray(start, start + count), slot * SLOT_VALUES);
      values.fill(0, slot * SLOT_VALUES + count, slot * SLOT_VALUES + padded);
    });
    const outputSlot = inputs.length * SLOT_VALUES;
    runOnThreads(kernel, name, padded, Math.min(padded, MIN_VALUES_PER_THREAD), (first, last) => [
      ...inputs.map((_, slot) => slot * slotBytes),
      outputSlot * 4,
      first,
      last,
    ]);
    output.set(values.subarray(outputSlot, outputSlot + count), start);
  }
}
