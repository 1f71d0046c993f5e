/**
 * fast-check arbitraries for JPEG-shaped byte strings: not images a decoder
 * could show, but bytes with exactly the marker structure a marker walker must
 * honour — segments whose payloads hold FF D8 and FF D9, entropy-coded data
 * with stuffed FF 00 and RST markers, several scans, fill bytes.
 */
import fc from "fast-check";

const SOI = [0xff, 0xd8];
const EOI = [0xff, 0xd9];

/** A marker segment (APPn, COM, DQT, DHT, SOFn…) with an arbitrary payload. */
const segment = fc
  .tuple(
    fc.constantFrom(0xe0, 0xe1, 0xe2, 0xed, 0xfe, 0xdb, 0xc4, 0xc0, 0xc2, 0xdd),
    fc.uint8Array({ maxLength: 300 }),
    fc.boolean(),
  )
  .map(([marker, payload, fill]) => {
    const length = payload.length + 2;
    return [...(fill ? [0xff] : []), 0xff, marker, length >> 8, length & 0xff, ...payload];
  });

/** Entropy-coded data: any bytes, with each FF stuffed or followed by an RST marker. */
const entropy = fc.uint8Array({ maxLength: 2000 }).chain((bytes) =>
  fc.array(fc.integer({ min: 0xd0, max: 0xd8 }), {
    minLength: bytes.length,
    maxLength: bytes.length,
  }).map((after) => {
    const out: number[] = [];
    bytes.forEach((b, i) => {
      out.push(b);
      if (b === 0xff) out.push(after[i] === 0xd8 ? 0x00 : after[i]!);
    });
    return out;
  })
);

/** A scan: SOS header segment then entropy-coded data. */
const scan = fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 12 }), entropy).map(
  ([header, data]) => {
    const length = header.length + 2;
    return [0xff, 0xda, length >> 8, length & 0xff, ...header, ...data];
  },
);

/** A whole JPEG-shaped byte string, SOI to EOI. */
export const syntheticJpeg: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.array(segment, { maxLength: 5 }), fc.array(scan, { minLength: 1, maxLength: 3 }))
  .map(([segments, scans]) =>
    Uint8Array.from([...SOI, ...segments.flat(), ...scans.flat(), ...EOI])
  );
