// A minimal HTTP/1.1 keep-alive client on raw TCP sockets, for the
// benchmark's zero-overhead floor: node:http's ClientRequest and Agent cost
// more per request than a native relay does, so they would make a floor that
// is not one. One request at a time per connection (no pipelining), at most
// `maxSockets` connections, requests beyond that wait in order.
//
// request({method, path, headers, body, onHead, onBody}) resolves when the
// response has been read to its end (Content-Length or chunked); onHead(status,
// headers) and onBody(Buffer) are called as the bytes arrive.

import net from 'node:net';

const CRLFCRLF = Buffer.from('\r\n\r\n');

export class RawHttpPool {
  constructor(host, port, { maxSockets = 64 } = {}) {
    this.host = host;
    this.port = port;
    this.maxSockets = maxSockets;
    this.idle = [];
    this.all = new Set();
    this.queue = [];
    this.opened = 0;
  }

  request(req) {
    return new Promise((resolve, reject) => {
      const job = { ...req, resolve, reject };
      const conn = this.idle.pop();
      if (conn) conn.send(job);
      else if (this.all.size < this.maxSockets) this.connect().send(job);
      else this.queue.push(job);
    });
  }

  connect() {
    const conn = new Conn(this);
    this.all.add(conn);
    this.opened++;
    return conn;
  }

  release(conn) {
    const next = this.queue.shift();
    if (next) conn.send(next);
    else this.idle.push(conn);
  }

  drop(conn) {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    // Someone waiting gets a fresh connection in its place.
    const next = this.queue.shift();
    if (next) this.connect().send(next);
  }

  destroy() {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle = [];
  }
}

class Conn {
  constructor(pool) {
    this.pool = pool;
    this.job = null;
    this.head = [];
    this.headLen = 0;
    this.socket = net.connect({ host: pool.host, port: pool.port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  send(job) {
    this.job = job;
    this.state = 'head';
    this.head = [];
    const body = job.body === undefined ? null : Buffer.isBuffer(job.body) ? job.body : Buffer.from(job.body);
    let text = `${job.method} ${job.path} HTTP/1.1\r\nhost: ${this.pool.host}:${this.pool.port}\r\n`;
    for (const [k, v] of Object.entries(job.headers ?? {})) text += `${k}: ${v}\r\n`;
    if (body) text += `content-length: ${body.length}\r\n`;
    text += '\r\n';
    if (body && body.length < 65536) this.socket.write(Buffer.concat([Buffer.from(text), body]));
    else {
      this.socket.write(text);
      if (body) this.socket.write(body);
    }
  }

  fail(err) {
    const job = this.job;
    this.job = null;
    this.pool.drop(this);
    if (job) job.reject(err);
  }

  onData(chunk) {
    let buf = chunk;
    while (buf.length && this.job) {
      if (this.state === 'head') {
        this.head.push(buf);
        const all = this.head.length === 1 ? buf : Buffer.concat(this.head);
        const end = all.indexOf(CRLFCRLF);
        if (end < 0) {
          this.head = [all];
          return;
        }
        this.parseHead(all.subarray(0, end).toString('latin1'));
        buf = all.subarray(end + 4);
        this.head = [];
        if (this.state === 'done') this.finish();
        continue;
      }
      if (this.state === 'length') {
        const take = Math.min(this.remaining, buf.length);
        if (take) this.job.onBody?.(buf.subarray(0, take));
        this.remaining -= take;
        buf = buf.subarray(take);
        if (this.remaining === 0) this.finish();
        continue;
      }
      if (this.state === 'chunked') {
        buf = this.chunked(buf);
        continue;
      }
      return;
    }
  }

  parseHead(text) {
    const lines = text.split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].indexOf(':');
      if (c > 0) headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
    }
    this.status = status;
    this.headers = headers;
    this.keepAlive = (headers.connection ?? '').toLowerCase() !== 'close';
    this.job.onHead?.(status, headers);
    if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
      this.state = 'chunked';
      this.chunkState = 'size';
      this.sizeLine = '';
    } else if (headers['content-length'] !== undefined) {
      this.remaining = Number(headers['content-length']);
      this.state = this.remaining === 0 ? 'done' : 'length';
    } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      this.state = 'done';
    } else {
      this.state = 'done'; // no framing: nothing this server sends; treat as empty
    }
  }

  /** Consumes chunked framing from `buf`; returns what is left of it. */
  chunked(buf) {
    let i = 0;
    while (i < buf.length && this.job) {
      if (this.chunkState === 'size') {
        const nl = buf.indexOf(10, i);
        if (nl < 0) { this.sizeLine += buf.toString('latin1', i); return buf.subarray(buf.length); }
        this.sizeLine += buf.toString('latin1', i, nl);
        i = nl + 1;
        this.chunkLeft = parseInt(this.sizeLine.trim().split(';')[0], 16);
        this.sizeLine = '';
        this.chunkState = this.chunkLeft === 0 ? 'trailer' : 'data';
      } else if (this.chunkState === 'data') {
        const take = Math.min(this.chunkLeft, buf.length - i);
        this.job.onBody?.(buf.subarray(i, i + take));
        this.chunkLeft -= take;
        i += take;
        if (this.chunkLeft === 0) { this.chunkState = 'crlf'; this.crlfLeft = 2; }
      } else if (this.chunkState === 'crlf') {
        const take = Math.min(this.crlfLeft, buf.length - i);
        this.crlfLeft -= take;
        i += take;
        if (this.crlfLeft === 0) this.chunkState = 'size';
      } else if (this.chunkState === 'trailer') {
        // Trailer lines end with an empty line; this server sends none.
        const nl = buf.indexOf(10, i);
        if (nl < 0) { this.sizeLine += buf.toString('latin1', i); return buf.subarray(buf.length); }
        const line = (this.sizeLine + buf.toString('latin1', i, nl)).replace(/\r$/, '');
        this.sizeLine = '';
        i = nl + 1;
        if (line === '') { this.finish(); return buf.subarray(i); }
      }
    }
    return buf.subarray(i);
  }

  finish() {
    const job = this.job;
    this.job = null;
    this.state = 'idle';
    if (this.keepAlive) this.pool.release(this);
    else { this.socket.destroy(); }
    job.resolve({ status: this.status, headers: this.headers });
  }
}
