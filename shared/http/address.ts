/** `:8080` listens on every address (in a pod); `127.0.0.1:8080` on loopback only. */
export function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid listen address ${JSON.stringify(address)}`);
  return [address.slice(0, colon) || '0.0.0.0', port];
}
