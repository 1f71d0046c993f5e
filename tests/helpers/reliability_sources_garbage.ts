/**
 * The garbage-writing camera of the sources fault-injection tests: good
 * labelled JPEGs with noise, broken JPEGs and fill bytes between them.
 */
import type { FakeCamera } from "./fake_camera.ts";
import { labelledJpeg } from "./jpeg.ts";

/**
 * A camera stream with faults: `count` good labelled frames (g0, g1, …) with,
 * after every second one, a bad item: random bytes (some holding FF D8 or FF
 * D9), a JPEG with random bytes inside its entropy data or its headers, a JPEG
 * cut short, or a run of FF fill bytes. Seeded, so every run is the same.
 */
export function garbageStream(cam: FakeCamera, count: number): { items: string[]; good: string[] } {
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
  const splice = (base: Uint8Array, at: number, insert: Uint8Array) =>
    Uint8Array.from([...base.subarray(0, at), ...insert, ...base.subarray(at)]);
  const items: string[] = [];
  const good: string[] = [];
  for (let i = 0; i < count; i++) {
    const label = `g${i}`;
    items.push(cam.file(`${label}.jpg`, labelledJpeg(label, i), label));
    good.push(label);
    if (i % 2 === 0) continue;
    const other = labelledJpeg(`x${i}`, i + 3);
    let bad: Uint8Array;
    switch ((i >> 1) % 6) {
      case 0: // plain noise between frames
        bad = bytes(1 + Math.floor(random() * 4000));
        break;
      case 1: // noise with a false start and a false end
        bad = Uint8Array.from([...bytes(300), 0xff, 0xd8, ...bytes(500), 0xff, 0xd9, ...bytes(50)]);
        break;
      case 2: // noise inside the entropy-coded data, past the middle
        bad = splice(other, Math.floor(other.length * 0.7), bytes(200));
        break;
      case 3: // noise inside the headers (after SOI and the comment)
        bad = splice(other, 30, bytes(64));
        break;
      case 4: // cut short in the entropy data
        bad = other.subarray(0, Math.floor(other.length * 0.6));
        break;
      default: // a burst of fill bytes
        bad = new Uint8Array(1000).fill(0xff);
    }
    items.push(cam.file(`bad${i}.bin`, bad));
  }
  return { items, good };
}
