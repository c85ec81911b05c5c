// A `--http` value or listen failure that stops start-up; its message is one line naming the fix.
export class ListenError extends Error {
  override name = 'ListenError';
}

// Where `serve --http` listens, parsed from HOST:PORT ([::1]:PORT for IPv6).
export interface ListenAddress {
  host: string;
  port: number;
  /** The host as it appears in a URL and a Host header ([::1] for IPv6). */
  urlHost: string;
}

const EXAMPLE = 'use HOST:PORT, e.g. --http 127.0.0.1:8765 (port 0 picks a free one)';
const HOST_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/;

// Parses a `--http` value up front, so a typo is one clear line instead of a stack trace from the socket layer.
export function parseListenAddress(value: string): ListenAddress {
  const given = `--http ${JSON.stringify(value)}`;
  if (value.includes('://')) throw new ListenError(`${given}: no scheme or path here; ${EXAMPLE}`);
  const m = /^(.*):([^:\]]*)$/.exec(value);
  if (!m) throw new ListenError(`${given}: no port; ${EXAMPLE}`);
  const [, rawHost = '', rawPort = ''] = m;
  if (!rawHost) throw new ListenError(`${given}: no host; ${EXAMPLE} (127.0.0.1 for this machine only)`);
  if (!HOST_RE.test(rawHost))
    throw new ListenError(`${given}: "${rawHost}" is not a host name or IP address; ${EXAMPLE}`);
  if (!/^\d{1,6}$/.test(rawPort)) throw new ListenError(`${given}: the port must be a number; ${EXAMPLE}`);
  const port = Number(rawPort);
  if (port > 65535) throw new ListenError(`${given}: port ${port} is out of range (0-65535); ${EXAMPLE}`);
  const host = rawHost.replace(/^\[|\]$/g, '');
  return { host, port, urlHost: host.includes(':') ? `[${host}]` : host };
}

// True for an address that listens beyond this machine (all interfaces or a network address).
export function isExposed(host: string): boolean {
  return !['127.0.0.1', 'localhost', '::1'].includes(host.toLowerCase()) && !host.startsWith('127.');
}

// One line for a failed listen(): what went wrong and what to do, by error code.
export function describeListenError(err: NodeJS.ErrnoException, address: ListenAddress): string {
  const at = `--http ${address.urlHost}:${address.port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return (
        `${at}: port ${address.port} is already in use; stop the program using it or choose another port ` +
        `(${address.urlHost}:0 picks a free one)`
      );
    case 'EACCES':
      return (
        `${at}: not allowed to listen on port ${address.port} (ports below 1024 need privileges); choose a ` +
        `port above 1023`
      );
    case 'EADDRNOTAVAIL':
      return (
        `${at}: ${address.host} is not an address of this machine; use 127.0.0.1 (this machine only) or an ` +
        `address of one of its interfaces`
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${at}: cannot resolve the host name ${address.host}; use an IP address such as 127.0.0.1`;
    default:
      return `${at}: cannot listen (${err.code ?? 'error'}: ${err.message})`;
  }
}
