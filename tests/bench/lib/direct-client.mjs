// The zero-overhead floor: a Streamable HTTP client in the benchmark process
// itself, on keep-alive connections: by default the raw-socket HTTP/1.1 client
// of raw-http.mjs, or node:http with a keep-alive Agent (impl 'node-http'). It speaks to the test server
// directly: initialize (keeps Mcp-Session-Id and the negotiated version), the
// initialized notification, then one POST per request; a JSON reply is read
// whole, an SSE reply is parsed as it streams and the call resolves on the
// event that carries its response.

import http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { now } from './util.mjs';
import { RawHttpPool } from './raw-http.mjs';

export class DirectClient {
  /** impl: 'raw' (lib/raw-http.mjs, the floor) or 'node-http' (node:http with a keep-alive Agent). */
  constructor(url, { headers = {}, maxSockets = 64, impl = 'raw' } = {}) {
    this.url = new URL(url);
    this.extraHeaders = headers;
    this.impl = impl;
    if (impl === 'raw') this.pool = new RawHttpPool(this.url.hostname, Number(this.url.port), { maxSockets });
    else this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
    this.nextId = 1;
    this.sessionId = undefined;
    this.protocolVersion = undefined;
    this.answers = new Map();
    this.unexpected = [];
  }

  headers(extra = {}) {
    const h = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...this.extraHeaders,
      ...extra,
    };
    if (this.sessionId) h['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion) h['mcp-protocol-version'] = this.protocolVersion;
    return h;
  }

  /**
   * One HTTP exchange through the chosen implementation: onHead(status,
   * headers) and onBody(Buffer) as bytes arrive; resolves at the response end.
   */
  exchange(method, body, onHead, onBody) {
    const headers = method === 'POST'
      ? { ...this.headers(), 'content-length': Buffer.byteLength(body) }
      : this.headers();
    if (this.pool) {
      if (method === 'POST') delete headers['content-length']; // the pool adds it
      return this.pool.request({ method, path: this.url.pathname, headers, body, onHead, onBody });
    }
    return new Promise((resolve, reject) => {
      const req = http.request({
        agent: this.agent, host: this.url.hostname, port: this.url.port, path: this.url.pathname, method, headers,
      }, (res) => {
        onHead(res.statusCode, res.headers);
        res.on('data', onBody);
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * POSTs `body` (a string). Resolves {status, headers, msg} where msg is the
   * response carrying `wantId` (undefined for notifications); for SSE as soon
   * as the event that carries it has arrived.
   */
  post(body, wantId) {
    return new Promise((resolve, reject) => {
      let status;
      let headers;
      let sse = null;
      const decoder = new StringDecoder('utf8');
      const chunks = [];
      let settled = false;
      const done = (msg) => {
        if (settled) return;
        settled = true;
        resolve({ status, headers, msg });
      };
      const onMessage = (msg) => {
        if (msg && typeof msg.method !== 'string' && 'id' in msg) {
          this.count(msg.id);
          if (msg.id === wantId) done(msg);
        }
      };
      const onHead = (s, h) => {
        status = s;
        headers = h;
        if (String(h['content-type'] ?? '').startsWith('text/event-stream')) {
          sse = new SseReader((data) => {
            try { onMessage(JSON.parse(data)); } catch { /* not JSON: ignored */ }
          });
        }
      };
      const onBody = (buf) => {
        if (sse) sse.feed(decoder.write(buf));
        else chunks.push(buf);
      };
      this.exchange('POST', body, onHead, onBody).then(() => {
        if (sse) return done(undefined);
        const text = Buffer.concat(chunks).toString('utf8');
        let msg;
        if (text.length) {
          try { msg = JSON.parse(text); } catch { msg = undefined; }
        }
        if (Array.isArray(msg)) msg.forEach(onMessage);
        else if (msg) onMessage(msg);
        done(msg && msg.id === wantId ? msg : (wantId === undefined ? msg : undefined));
      }, reject);
    });
  }

  count(id) {
    if (this.answers.has(id)) this.answers.set(id, this.answers.get(id) + 1);
    else this.unexpected.push(id);
  }

  async initialize(clientInfo = { name: 'bench-direct', version: '1' }) {
    const id = this.nextId++;
    this.answers.set(id, 0);
    const r = await this.post(JSON.stringify({
      jsonrpc: '2.0', id, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo },
    }), id);
    if (r.status !== 200 || !r.msg?.result) throw new Error(`initialize failed: HTTP ${r.status} ${JSON.stringify(r.msg)}`);
    this.sessionId = r.headers['mcp-session-id'];
    this.protocolVersion = r.msg.result.protocolVersion;
    return r.msg;
  }

  async notify(method, params) {
    const r = await this.post(JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) }), undefined);
    if (r.status !== 202 && r.status !== 200) throw new Error(`${method}: HTTP ${r.status}`);
  }

  /** One request; resolves {msg, ms} (ms from just before the POST to the parsed reply). */
  async request(method, params) {
    const id = this.nextId++;
    this.answers.set(id, 0);
    const body = JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    const t = now();
    const r = await this.post(body, id);
    const at = now();
    if (!r.msg) throw new Error(`${method}: HTTP ${r.status} with no response for id ${id}`);
    return { msg: r.msg, ms: at - t, at, id };
  }

  /** Ends the session (DELETE) and closes the pooled connections. */
  async close() {
    if (this.sessionId) await this.exchange('DELETE', undefined, () => {}, () => {}).catch(() => {});
    if (this.pool) this.pool.destroy();
    else this.agent.destroy();
  }
}

/**
 * A text/event-stream parser (WHATWG rules for data lines and event ends).
 * Linear in the input: a line that spans many chunks is joined once, when its
 * end arrives.
 */
export class SseReader {
  constructor(onData) {
    this.onData = onData;
    this.parts = []; // the start of the current line, from earlier chunks
    this.data = [];
    this.skipLf = false; // the previous chunk ended with CR: a leading LF belongs to it
  }

  feed(text) {
    let start = 0;
    if (this.skipLf && text.charCodeAt(0) === 10) start = 1;
    this.skipLf = false;
    while (start < text.length) {
      const lf = text.indexOf('\n', start);
      const crAt = text.indexOf('\r', start);
      const nl = crAt >= 0 && (lf < 0 || crAt < lf) ? crAt : lf;
      if (nl < 0) {
        this.parts.push(start ? text.slice(start) : text);
        return;
      }
      let line = text.slice(start, nl);
      if (this.parts.length) {
        this.parts.push(line);
        line = this.parts.join('');
        this.parts = [];
      }
      start = nl + 1;
      if (text.charCodeAt(nl) === 13) {
        if (start < text.length) { if (text.charCodeAt(start) === 10) start++; } else this.skipLf = true;
      }
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data.length) this.onData(this.data.join('\n'));
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
  }
}
