/** Builds BMP files byte by byte, independently of the decoder under test. */
export function buildBmp(options: {
  width: number;
  height: number;
  bitsPerPixel: 1 | 8 | 24 | 32;
  /** RGB(A) pixels, top row first. */
  pixels: number[][];
  topDown?: boolean;
  palette?: number[][];
  compression?: number;
  bitfields?: [number, number, number, number];
}): Uint8Array {
  const { width, height, bitsPerPixel } = options;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 32) * 4;
  const paletteBytes = (options.palette?.length ?? 0) * 4;
  const headerSize = options.bitfields ? 108 : 40;
  const pixelOffset = 14 + headerSize + paletteBytes;
  const bytes = new Uint8Array(pixelOffset + rowBytes * height);
  const view = new DataView(bytes.buffer);
  bytes[0] = 0x42;
  bytes[1] = 0x4d;
  view.setUint32(2, bytes.length, true);
  view.setUint32(10, pixelOffset, true);
  view.setUint32(14, headerSize, true);
  view.setInt32(18, width, true);
  view.setInt32(22, options.topDown ? -height : height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, bitsPerPixel, true);
  view.setUint32(30, options.compression ?? (options.bitfields ? 3 : 0), true);
  view.setUint32(46, options.palette?.length ?? 0, true);
  options.bitfields?.forEach((mask, i) => {
    view.setUint32(54 + i * 4, mask, true);
  });
  options.palette?.forEach(([r, g, b], i) => {
    bytes.set([b as number, g as number, r as number, 0], 14 + headerSize + i * 4);
  });
  for (let row = 0; row < height; row++) {
    const fileRow = options.topDown ? row : height - 1 - row;
    const start = pixelOffset + fileRow * rowBytes;
    for (let column = 0; column < width; column++) {
      const pixel = options.pixels[row * width + column] as number[];
      if (bitsPerPixel === 24)
        bytes.set([pixel[2] as number, pixel[1] as number, pixel[0] as number], start + column * 3);
      else if (bitsPerPixel === 32 && options.bitfields) {
        // Masks are RGBA in the order given; build the 32-bit value from them.
        const [r, g, b, a] = pixel as [number, number, number, number];
        view.setUint32(start + column * 4, ((a << 24) | (r << 16) | (g << 8) | b) >>> 0, true);
      } else if (bitsPerPixel === 32)
        bytes.set(
          [pixel[2] as number, pixel[1] as number, pixel[0] as number, 0],
          start + column * 4,
        );
      else if (bitsPerPixel === 8) bytes[start + column] = pixel[0] as number;
      else {
        const index = pixel[0] as number;
        bytes[start + (column >> 3)] =
          (bytes[start + (column >> 3)] as number) | (index << (7 - (column & 7)));
      }
    }
  }
  return bytes;
}
