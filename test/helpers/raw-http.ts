import { Agent, request } from 'node:http';

/**
 * A raw HTTP/1.1 request on loopback: any method with any body (GET too), any content
 * type or none, a path sent exactly as given. fetch refuses most of that.
 */
export interface RawRequest {
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** Connection pool; default: a shared keep-alive agent of 8 sockets. */
  agent?: Agent;
  /** No answer in this long fails the request (default 10 s). */
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

const sharedAgent = new Agent({ keepAlive: true, maxSockets: 8 });

export function rawRequest(
  base: string,
  { method, path, body, contentType, headers = {}, agent = sharedAgent, timeoutMs = 10_000 }: RawRequest,
): Promise<RawResponse> {
  const url = new URL(base);
  const allHeaders: Record<string, string> = { ...headers };
  if (contentType !== undefined) allHeaders['content-type'] = contentType;
  if (body !== undefined) allHeaders['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, method, path, headers: allHeaders, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Percent-encodes every byte of the UTF-8 form except RFC 3986 unreserved characters (lone surrogates too). */
export function percentEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** POST a JSON body; the status and the parsed answer (undefined when empty). */
export async function postJson(base: string, path: string, body: unknown, agent?: Agent): Promise<{ status: number; body: any }> {
  const response = await rawRequest(base, { method: 'POST', path, body: JSON.stringify(body), contentType: 'application/json', agent });
  return { status: response.status, body: response.text ? JSON.parse(response.text) : undefined };
}
