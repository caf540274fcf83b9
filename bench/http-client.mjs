// A small keep-alive HTTP/1.1 JSON client on node:http (lighter than fetch), shared by
// bench/core.mjs and bench/claim-agent.mjs.
import http from 'node:http';

export class HttpClient {
  /** @param {string} baseUrl e.g. http://127.0.0.1:8080 */
  constructor(baseUrl, { maxSockets = 1 } = {}) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, noDelay: true });
  }

  /**
   * Sends one request; resolves with {status, json, text, tEnd} where tEnd is
   * process.hrtime.bigint() when the whole response had arrived.
   */
  request(method, path, body) {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, method, path, agent: this.agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const tEnd = process.hrtime.bigint();
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, json, text, tEnd });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  close() {
    this.agent.destroy();
  }
}

/** Throws unless the response has the expected status; the message carries the body. */
export function expectStatus(response, expected, what) {
  if (response.status !== expected) {
    throw new Error(`${what}: expected HTTP ${expected}, got ${response.status}: ${response.text.slice(0, 500)}`);
  }
  return response.json;
}
