/**
 * Deterministic stand-ins for random values, shared by both sample generators (X-Ray in
 * samples/generate, OpenTelemetry in samples/generate/otel). Everything that must be stable across
 * runs (ids, times, request ids) is derived from a fixed seed with these, never from the clock or
 * from `crypto.randomBytes`. Node builtins only: each generator has its own install.
 */
import { createHash } from 'node:crypto';

/** `length` hex digits derived from `seed` (SHA-256 of `seed#0`, `seed#1`, …). */
export function hex(seed: string, length: number): string {
  let out = '';
  let n = 0;
  while (out.length < length) out += createHash('sha256').update(`${seed}#${n++}`).digest('hex');
  return out.slice(0, length);
}

/** A deterministic integer in [min, max] from a seed. */
export function seeded(seed: string, min: number, max: number): number {
  return min + (parseInt(hex(seed, 12), 16) % (max - min + 1));
}

/** A version-4-shaped UUID from a seed. */
export function uuid(seed: string): string {
  const h = hex(`uuid:${seed}`, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `count` decimal digits from a seed. */
export function digits(seed: string, count: number): string {
  const h = hex(seed, count * 2);
  let out = '';
  for (let i = 0; i < count; i++) out += String(parseInt(h.slice(i * 2, i * 2 + 2), 16) % 10);
  return out;
}
