/**
 * Reading `compression=lz64`: what older posthog-js sent (`LZString.compressToBase64` of the
 * JSON, in a form's `data=`). A decoder of LZ-String's base64 form written for Beacon rather
 * than a dependency: it is one small loop, and unlike the library's it refuses bad input
 * instead of returning `null` or garbage, and stops at a bound on its output, so a small
 * body cannot expand without limit. Its tests decode what the real `lz-string` package makes.
 *
 * The format: the base64 text carries a stream of bits, six per character, most significant
 * first. Codes are read `width` bits wide, least significant bit first; code 0 and 1 bring a
 * new 8- or 16-bit character into the dictionary, 2 ends the stream, and any other code names
 * a dictionary entry (or, once, the entry about to be made: the previous one plus its own
 * first character). The width grows by one bit each time the dictionary outgrows it.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Each character's six bits, by char code; -1 for a character that is not base64. */
const SIXES = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  // LZString's own table gives "=" the value 64, whose low six bits are zero.
  table["=".charCodeAt(0)] = 0;
  return table;
})();

/** Why lz64 text could not be read: not base64, cut short, or naming no entry. */
export class Lz64Error extends Error {
  /**
   * @param message What is wrong with the text.
   */
  constructor(message: string) {
    super(message);
    this.name = "Lz64Error";
  }
}

/** The decoded text would be longer than allowed. */
export class Lz64TooLargeError extends Error {
  /**
   * @param maxLength The bound that was reached.
   */
  constructor(readonly maxLength: number) {
    super(`the lz64 data is over ${maxLength} characters once decompressed`);
    this.name = "Lz64TooLargeError";
  }
}

/**
 * Decompresses `LZString.compressToBase64` output.
 *
 * @param input The base64 text (a `+` turned into a space by form encoding is read as `+`).
 * @param maxLength The most UTF-16 code units the result may have.
 * @returns The original string.
 * @throws {Lz64Error} For text that is not LZ-String base64 output.
 * @throws {Lz64TooLargeError} When the result would exceed `maxLength`.
 *
 * @example
 * ```ts
 * decompressFromBase64("N4IghiBcCMC+Q===", 1000); // {"a":1}
 * ```
 */
export function decompressFromBase64(input: string, maxLength: number): string {
  const text = input.replace(/ /g, "+").replace(/[\r\n]/g, "");
  if (text.length === 0) throw new Lz64Error("the lz64 data is empty");
  let at = 0; // next character of text
  let six = 0; // the current character's bits
  let mask = 0; // which bit of `six` comes next (32 down to 1); 0: read a character
  function bits(width: number): number {
    let value = 0;
    for (let power = 1; power < 1 << width; power <<= 1) {
      if (mask === 0) {
        if (at >= text.length) throw new Lz64Error("the lz64 data ends before its end mark");
        const code = text.charCodeAt(at++);
        six = code < 128 ? SIXES[code] : -1;
        if (six < 0) throw new Lz64Error(`the lz64 data holds a character that is not base64`);
        mask = 32;
      }
      if (six & mask) value |= power;
      mask >>= 1;
    }
    return value;
  }

  const dictionary: string[] = ["", "", ""]; // codes 0-2 are commands
  const out: string[] = [];
  let length = 0;
  function emit(piece: string): void {
    length += piece.length;
    if (length > maxLength) throw new Lz64TooLargeError(maxLength);
    out.push(piece);
  }

  let width = 3;
  let enlargeIn = 4;
  const first = bits(2);
  if (first === 2) return "";
  if (first === 3) throw new Lz64Error("the lz64 data does not start with a character");
  let previous = String.fromCharCode(bits(first === 0 ? 8 : 16));
  dictionary.push(previous);
  emit(previous);
  while (true) {
    let code = bits(width);
    if (code === 2) return out.join("");
    if (code === 0 || code === 1) {
      dictionary.push(String.fromCharCode(bits(code === 0 ? 8 : 16)));
      code = dictionary.length - 1;
      if (--enlargeIn === 0) enlargeIn = 1 << width++;
    }
    let entry: string;
    if (code < dictionary.length) entry = dictionary[code];
    else if (code === dictionary.length) entry = previous + previous[0];
    else throw new Lz64Error("the lz64 data names a dictionary entry that does not exist");
    emit(entry);
    dictionary.push(previous + entry[0]);
    previous = entry;
    if (--enlargeIn === 0) enlargeIn = 1 << width++;
  }
}
