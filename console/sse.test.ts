import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sseComment, sseEvent } from './sse.ts';

/** Parses an event stream as the WHATWG spec says a browser does. */
function parse(stream: string): Array<{ event: string; data: string }> {
  const out: Array<{ event: string; data: string }> = [];
  for (const block of stream.split('\n\n')) {
    if (block === '') continue;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      if (field === 'data') data.push(value);
    }
    if (data.length > 0) out.push({ event, data: data.join('\n') });
  }
  return out;
}

describe('server-sent event framing', () => {
  it('one event per frame, JSON data that parses back to the value', () => {
    const value = { name: 'web', message: 'line one\nline two\n\nevent: forged\ndata: {}', emoji: '🌊' };
    const frame = sseEvent('upsert', value);
    assert.ok(frame.endsWith('\n\n'));
    const events = parse(frame + sseComment('ping') + sseEvent('delete', { name: 'x' }));
    assert.equal(events.length, 2);
    assert.equal(events[0]?.event, 'upsert');
    assert.deepEqual(JSON.parse(events[0]?.data ?? ''), value);
    assert.equal(events[1]?.event, 'delete');
  });

  it('a value with line breaks stays on one data line', () => {
    assert.equal(sseEvent('problem', 'a\r\nb\nc'), 'event: problem\ndata: "a\\r\\nb\\nc"\n\n');
  });

  it('refuses an event name that could carry a line break', () => {
    assert.throws(() => sseEvent('up\nsert', {}));
    assert.throws(() => sseEvent('', {}));
  });

  it('a comment stays on one line', () => {
    assert.equal(sseComment('a\nb'), ': a b\n\n');
  });
});
