/**
 * Git's pkt-line framing (gitprotocol-common): four hex digits of length, the length counting
 * itself, then the payload. `0000` flushes, `0001` delimits sections (protocol v2), `0002` ends a
 * stateless response. Text payloads end in a newline that is not part of the line.
 */
export const PKT_FLUSH = Symbol('flush');
export const PKT_DELIM = Symbol('delim');
export const PKT_END = Symbol('response-end');
export type PktLine = string | typeof PKT_FLUSH | typeof PKT_DELIM | typeof PKT_END;

const SPECIAL: Readonly<Record<string, PktLine>> = { '0000': PKT_FLUSH, '0001': PKT_DELIM, '0002': PKT_END };
const CODES = new Map<PktLine, string>([
  [PKT_FLUSH, '0000'],
  [PKT_DELIM, '0001'],
  [PKT_END, '0002'],
]);
/** The protocol's own limit: 65,520 bytes of packet, 65,516 of payload. */
const MAX_PACKET = 65520;

export function encodePktLines(lines: readonly PktLine[]): Buffer {
  const parts: Buffer[] = [];
  for (const line of lines) {
    const code = CODES.get(line);
    if (code !== undefined) {
      parts.push(Buffer.from(code));
      continue;
    }
    const payload = Buffer.from(`${String(line)}\n`);
    if (payload.length + 4 > MAX_PACKET) throw new RangeError(`a pkt-line of ${payload.length} bytes is longer than the protocol allows`);
    parts.push(Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload);
  }
  return Buffer.concat(parts);
}

/**
 * Splits a response into lines. A malformed length ends the parse at that point: what came before
 * is kept and the rest is not trusted, like git's own reader refusing the stream.
 */
export function decodePktLines(data: Buffer): PktLine[] {
  return decodePktResponse(data).lines;
}

/**
 * The lines, and whether the response is whole: every byte framed and the last packet a flush or
 * response-end, as every ref listing ends. Garbage (a login page served as Git) or a body cut
 * short would otherwise read as a shorter listing — a branch "not found" that is really there.
 */
export function decodePktResponse(data: Buffer): { lines: PktLine[]; complete: boolean } {
  const lines: PktLine[] = [];
  let at = 0;
  while (at + 4 <= data.length) {
    const head = data.toString('latin1', at, at + 4);
    const special = SPECIAL[head];
    if (special !== undefined) {
      lines.push(special);
      at += 4;
      continue;
    }
    if (!/^[0-9a-f]{4}$/.test(head)) break;
    const length = parseInt(head, 16);
    if (length < 4 || at + length > data.length) break;
    const payload = data.toString('utf8', at + 4, at + length);
    lines.push(payload.endsWith('\n') ? payload.slice(0, -1) : payload);
    at += length;
  }
  const last = lines.at(-1);
  return { lines, complete: at === data.length && (last === PKT_FLUSH || last === PKT_END) };
}
