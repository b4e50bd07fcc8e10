/**
 * One server-sent event. Each line of the data gets its own `data:` field, so a newline in the
 * text cannot end the event early or start a forged one; the event name is checked for the same reason.
 */
export function sseEvent(event: string, data: unknown): string {
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(event)) throw new Error(`invalid event name ${JSON.stringify(event)}`);
  const text = JSON.stringify(data) ?? 'null';
  const lines = text.split(/\r\n|\r|\n/).map((line) => `data: ${line}`);
  return `event: ${event}\n${lines.join('\n')}\n\n`;
}

/** A comment line: keeps idle proxies and the browser's connection from timing out. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}
