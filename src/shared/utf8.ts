/**
 * UTF-8 validation that says where: the JSON reader (src/json) and the usage-file reader
 * (src/export) refuse bytes that are not UTF-8 with their offset, never as U+FFFD.
 */

/**
 * Index of the first byte of `buf` that does not start or continue a valid UTF-8 sequence
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). Called after a
 * strict check (`isUtf8`, a fatal TextDecoder) said no, to say where.
 */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return buf.length;
}
