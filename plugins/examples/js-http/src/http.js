// A small HTTP/1.1 client over the host's `net` capability: one keep-alive connection,
// one request at a time, JSON in and out.
//
// The host opens the connection (checking the app's allow-list) and does TLS itself, so
// this only speaks HTTP: requests carry Content-Length; responses are read by their
// Content-Length, or to the end of the connection when they have none. Chunked
// responses are refused with a clear error: the APIs this connector is for answer with
// Content-Length. A connection is dropped when the server says `Connection: close`, and
// a request that finds its kept-alive connection closed by the server is sent again on a
// new one: always when the request could not be written, and once it was written unless
// it is a POST (which might have been carried out; the IdP retries it instead).

import { log } from 'ferry:connector/log@0.2.0';
import { connect } from 'ferry:connector/net@0.2.0';

import { fromNet, internal, unavailable } from './errors.js';

/** The largest response head (status line and headers) accepted. */
const MAX_HEAD = 64 * 1024;
/** The largest response body accepted. */
const MAX_BODY = 32 * 1024 * 1024;
/** How much one read asks the host for. */
const READ_SIZE = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The server closed a kept-alive connection before answering; `written` says how far we got. */
class Stale {
  constructor(written) {
    this.written = written;
  }
}

/** The net capability's error variant inside what an import threw. */
function netErrorOf(thrown) {
  return thrown && Object.prototype.hasOwnProperty.call(thrown, 'payload') ? thrown.payload : thrown;
}

/** Closes a `net` connection now rather than when the garbage collector gets to it. */
function close(connection) {
  const dispose = connection[Symbol.dispose || Symbol.for('dispose')];
  if (typeof dispose === 'function') {
    dispose.call(connection);
  }
}

export class HttpClient {
  /**
   * @param {{host: string, port: number, security: 'plain'|'tls', token: string}} target
   */
  constructor(target) {
    this.target = target;
    this.connection = undefined;
  }

  /**
   * Sends `method path` with `body` (JSON, or undefined for none) and returns
   * `{status, headers, text, json}`; `json` is the parsed body when there is one.
   * Network failures throw `ConnectorError`s; HTTP statuses are the caller's to judge.
   */
  request(method, path, body) {
    const payload = body === undefined ? undefined : encoder.encode(JSON.stringify(body));
    const head = this.head(method, path, payload);
    const context = `${method} ${path}`;
    for (let attempt = 0; ; attempt += 1) {
      const reused = this.connection !== undefined;
      if (!reused) {
        this.connection = this.open(context);
      }
      try {
        return this.exchange(this.connection, head, payload, method, context);
      } catch (thrown) {
        this.disconnect();
        if (!(thrown instanceof Stale)) {
          throw thrown;
        }
        const again = reused && attempt === 0 && (!thrown.written || method !== 'POST');
        if (!again) {
          throw unavailable(`${context}: the server closed the connection without answering`);
        }
        log('debug', `${context}: the kept-alive connection was closed by the server; reconnecting`);
      }
    }
  }

  /** Drops the connection, if any. */
  disconnect() {
    if (this.connection !== undefined) {
      close(this.connection);
      this.connection = undefined;
    }
  }

  open(context) {
    const { host, port, security } = this.target;
    try {
      return connect(host, port, security);
    } catch (thrown) {
      throw fromNet(`${context}: connecting to ${host}:${port}`, netErrorOf(thrown));
    }
  }

  head(method, path, payload) {
    const lines = [
      `${method} ${path} HTTP/1.1`,
      `Host: ${this.target.host}:${this.target.port}`,
      `Authorization: Bearer ${this.target.token}`,
      'Accept: application/json',
      'User-Agent: ferry-js-http/0.1.0',
    ];
    if (payload !== undefined) {
      lines.push('Content-Type: application/json', `Content-Length: ${payload.length}`);
    } else if (method !== 'GET' && method !== 'DELETE') {
      lines.push('Content-Length: 0');
    }
    return encoder.encode(`${lines.join('\r\n')}\r\n\r\n`);
  }

  exchange(connection, head, payload, method, context) {
    try {
      connection.write(head);
      if (payload !== undefined) {
        connection.write(payload);
      }
    } catch (thrown) {
      const failure = netErrorOf(thrown);
      if (failure && failure.tag === 'closed') {
        throw new Stale(false);
      }
      throw fromNet(`${context}: sending the request`, failure);
    }
    const reader = new Reader(connection, context);
    const response = readResponse(reader, method, context);
    // Bytes past the response would belong to no request: the stream cannot be trusted.
    if (response.close || reader.available() > 0) {
      this.disconnect();
    }
    return response;
  }
}

/** Buffers what the connection delivers. */
class Reader {
  constructor(connection, context) {
    this.connection = connection;
    this.buffer = new Uint8Array(0);
    this.start = 0;
    this.received = 0;
    this.context = context;
    this.ended = false;
  }

  /** Reads more; false at the end of the stream. */
  fill() {
    let chunk;
    try {
      chunk = this.connection.read(READ_SIZE);
    } catch (thrown) {
      const failure = netErrorOf(thrown);
      if (!(failure && failure.tag === 'closed')) {
        throw fromNet(`${this.context}: reading the response`, failure);
      }
      chunk = new Uint8Array(0);
    }
    if (chunk.length === 0) {
      this.ended = true;
      return false;
    }
    const joined = new Uint8Array(this.buffer.length - this.start + chunk.length);
    joined.set(this.buffer.subarray(this.start), 0);
    joined.set(chunk, this.buffer.length - this.start);
    this.buffer = joined;
    this.start = 0;
    this.received += chunk.length;
    return true;
  }

  /** The bytes buffered and not yet taken. */
  available() {
    return this.buffer.length - this.start;
  }

  /** Takes `count` buffered bytes. */
  take(count) {
    const bytes = this.buffer.slice(this.start, this.start + count);
    this.start += count;
    return bytes;
  }

  /** The position of the blank line ending the head, or -1. */
  headEnd() {
    const b = this.buffer;
    for (let i = this.start; i + 3 < b.length; i += 1) {
      if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) {
        return i - this.start;
      }
    }
    return -1;
  }

  /** The end of the stream was reached before the response was complete. */
  truncated(what) {
    if (this.received === 0) {
      throw new Stale(true);
    }
    return unavailable(`${this.context}: the connection ended in the middle of the ${what}`);
  }
}

/** Reads one response: status line, headers and body. */
function readResponse(reader, method, context) {
  let end = reader.headEnd();
  while (end < 0) {
    if (reader.available() > MAX_HEAD) {
      throw internal(`${context}: the response head is larger than ${MAX_HEAD} bytes`);
    }
    if (!reader.fill()) {
      throw reader.truncated('response head');
    }
    end = reader.headEnd();
  }
  const lines = decoder.decode(reader.take(end)).split('\r\n');
  reader.take(4);
  const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
  if (!status) {
    throw internal(`${context}: not an HTTP/1.x response: ${lines[0].slice(0, 80)}`);
  }
  const headers = new Map();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
    }
  }
  const code = Number(status[2]);
  const connectionHeader = (headers.get('connection') || '').toLowerCase();
  let close =
    connectionHeader.split(',').some((t) => t.trim() === 'close') ||
    (status[1] === '0' && !connectionHeader.includes('keep-alive'));
  let body;
  if (method === 'HEAD' || code === 204 || code === 304 || (code >= 100 && code < 200)) {
    body = new Uint8Array(0);
  } else if (headers.has('transfer-encoding')) {
    // Not needed by the APIs this is for; refusing is better than misreading (the
    // connection is dropped with the error).
    throw internal(
      `${context}: the API answered with Transfer-Encoding '${headers.get('transfer-encoding')}', which this connector does not read`,
    );
  } else if (headers.has('content-length')) {
    const length = Number(headers.get('content-length'));
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BODY) {
      throw internal(`${context}: unusable Content-Length '${headers.get('content-length')}'`);
    }
    while (reader.available() < length) {
      if (!reader.fill()) {
        throw reader.truncated('response body');
      }
    }
    body = reader.take(length);
  } else {
    // No length: the body runs to the end of the connection.
    while (reader.fill()) {
      if (reader.available() > MAX_BODY) {
        throw internal(`${context}: the response body is larger than ${MAX_BODY} bytes`);
      }
    }
    body = reader.take(reader.available());
    close = true;
  }
  const text = decoder.decode(body);
  let json;
  if (text.length > 0 && (headers.get('content-type') || '').includes('json')) {
    try {
      json = JSON.parse(text);
    } catch (thrown) {
      throw internal(`${context}: the API answered ${code} with invalid JSON: ${thrown.message}`);
    }
  }
  return { status: code, headers, text, json, close: close || reader.ended };
}
