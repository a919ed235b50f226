/**
 * IEEE 754 binary16 ("half") encodings of float32 values, rounded to nearest with ties to even, as
 * TF.js' weight loader expects for `quantization: { dtype: 'float16' }` manifest entries. Magnitudes
 * from 65520 up become ±Infinity (65504 is the largest half), values below 2^-25 become ±0, values in
 * between the normal range and zero become subnormals, and NaN stays NaN.
 */
export function float16Bits(values: Float32Array): Uint16Array {
  // Reading the float32 bit patterns directly avoids a second rounding through float64 arithmetic.
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const halves = new Uint16Array(values.length);
  for (let index = 0; index < bits.length; index++) halves[index] = halfOf(bits[index] as number);
  return halves;
}

/** The binary16 pattern nearest to the float32 with bit pattern `bits`. */
function halfOf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const biasedExponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  // Infinity keeps its sign; NaN stays a (quiet) NaN whatever its payload.
  if (biasedExponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  // Re-biased exponent: float32 bias 127, binary16 bias 15.
  const exponent = biasedExponent - 112;
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    // Subnormal half (or zero): count units of 2^-24. The float32's significand with its implicit
    // leading 1 is (2^23 + mantissa) * 2^(biasedExponent - 150), i.e. (2^23 + mantissa) >> (14 - exponent)
    // units; below 2^-25 (shift beyond 24) everything rounds to zero. float32 subnormals land here too.
    if (exponent < -10) return sign;
    return sign | roundShift(0x800000 | mantissa, 14 - exponent);
  }
  // Normal half: keep 10 of the 23 mantissa bits. A carry out of the mantissa correctly bumps the
  // exponent, up to 0x7c00 (Infinity) for values that round past 65504.
  return sign | roundShift((exponent << 23) | mantissa, 13);
}

/** `value / 2^shift` rounded to the nearest integer, ties to even (`value` < 2^31, 1 <= shift <= 24). */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}
