// js-http: a Ferry connector in JavaScript that provisions users into an HTTP/JSON
// users API, reaching it only through the host's `net` capability (the host checks the
// app's allow-list and does TLS).
//
// The API it speaks (the one `ferry-test-support`'s `TestApi` serves), under a base path
// (default `/api`), with `Authorization: Bearer TOKEN`:
//   GET    /users?limit=N&after=ID      -> {users, next, latest}   paged, ordered by id
//   POST   /users                       -> 201 user                409 if userName taken
//   GET    /users/{id}                  -> user                    404 (read: none)
//   PATCH  /users/{id}  {set, add, remove}  -> user
//   DELETE /users/{id}                  -> 204                     404
//   GET    /changes?since=SEQ&limit=N   -> {changes: [{seq, type: upsert|delete, user|id}], latest}
//
// Anchors are the API's user ids. A full import pages by id with a cursor and ends with
// the change feed's position taken when it began, so the delta imports that follow miss
// nothing; delta imports read the feed from there, deletions included. Exports make one
// request per change and report one result per change; the API's statuses become the
// contract's error kinds (see errors.js).
//
// Built with componentize-js (see sdk/js/README.md): the `export` object below becomes
// the component's `ferry:connector/connector@0.2.0` export.

import { ConnectorError, errorRecord, fromResponse, guard, invalidInput } from './errors.js';
import { HttpClient } from './http.js';
import { USER, checkType, createBody, patchBody, schema, toObject } from './users.js';

const NAME = 'js-http';
const VERSION = '0.1.0';

/** The most users or changes the API hands out per page. */
const API_MAX_PAGE = 500;

/** Cursors and watermarks are versioned JSON, so a foreign or old one is refused. */
const FORMAT = { connector: NAME, version: 1 };

function encodePosition(fields) {
  return JSON.stringify({ ...FORMAT, ...fields });
}

/** Reads a cursor or watermark this connector wrote; `invalid-input` otherwise. */
function decodePosition(text, what) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.connector !== FORMAT.connector || parsed.version !== FORMAT.version) {
    throw invalidInput(`this ${what} was not written by ${NAME} version ${FORMAT.version}`);
  }
  return parsed;
}

/** The parameters an app sets in `[apps.X.settings]`. */
const PARAMETERS = [
  {
    name: 'host',
    description: "The API's host name or address, as the app's network allow-list names it.",
    parameterType: 'string',
    required: true,
    secret: false,
    default: undefined,
  },
  {
    name: 'port',
    description: "The API's port.",
    parameterType: 'integer',
    required: false,
    secret: false,
    default: '443',
  },
  {
    name: 'security',
    description: '"tls" (HTTPS, TLS done by Ferry with the app\'s trust roots) or "plain" (HTTP).',
    parameterType: 'string',
    required: false,
    secret: false,
    default: '"tls"',
  },
  {
    name: 'base-path',
    description: 'The path the API\'s resources are under, e.g. "/api".',
    parameterType: 'string',
    required: false,
    secret: false,
    default: '"/api"',
  },
  {
    name: 'token',
    description: 'The bearer token the API accepts.',
    parameterType: 'string',
    required: true,
    secret: true,
    default: undefined,
  },
];

/** The settings as named values, checked beyond what the host checks. */
function readSettings(settings) {
  const values = new Map(settings.map((s) => [s.name, s.value.val]));
  const host = values.get('host');
  const port = Number(values.get('port'));
  const security = values.get('security');
  const basePath = values.get('base-path').replace(/\/+$/, '');
  const token = values.get('token');
  if (!host || /[\s/:]/.test(host)) {
    throw invalidInput(`'host' must be a host name or address, not '${host}'`, 'host');
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidInput(`'port' must be 1 to 65535, not ${values.get('port')}`, 'port');
  }
  if (security !== 'tls' && security !== 'plain') {
    throw invalidInput(`'security' must be "tls" or "plain", not "${security}"`, 'security');
  }
  if (basePath !== '' && !/^\/[A-Za-z0-9._~\/-]*$/.test(basePath)) {
    throw invalidInput(`'base-path' must be a path such as "/api", not "${basePath}"`, 'base-path');
  }
  // A line break in the token would let it add headers of its own.
  if (!token || /[\r\n]/.test(token)) {
    throw invalidInput("'token' must be one line of text", 'token');
  }
  return { host, port, security, basePath, token };
}

class Session {
  /** Connects lazily: the first call that needs the API opens the connection. */
  static open(settings) {
    return guard(() => new Session(readSettings(settings)));
  }

  constructor(config) {
    this.basePath = config.basePath;
    this.http = new HttpClient(config);
  }

  /** One call to the API; a status other than `expected` becomes the matching error. */
  call(method, path, body, expected, context) {
    const response = this.http.request(method, `${this.basePath}${path}`, body);
    if (response.status !== expected) {
      throw fromResponse(context, response);
    }
    return response.json;
  }

  /** The JSON answer, checked to hold `field` of the expected shape. */
  static field(json, field, check, context) {
    if (!json || !check(json[field])) {
      throw new ConnectorError('internal', `${context}: the API's answer has no usable '${field}'`);
    }
    return json[field];
  }

  testConnection() {
    guard(() => {
      this.call('GET', '/users?limit=1', undefined, 200, 'checking the API and its token');
    });
  }

  schema() {
    return guard(() => schema());
  }

  fullImport(cursor, pageSize) {
    return guard(() => {
      const position = cursor === undefined ? {} : decodePosition(cursor, 'cursor');
      const limit = Math.max(1, Math.min(pageSize, API_MAX_PAGE));
      const after = position.after ? `&after=${encodeURIComponent(position.after)}` : '';
      const context = 'importing users';
      const json = this.call('GET', `/users?limit=${limit}${after}`, undefined, 200, context);
      const users = Session.field(json, 'users', Array.isArray, context);
      // The feed position is taken with the first page: what changes after it reaches
      // the delta imports, even if the pages that follow already show it.
      const since =
        position.since !== undefined
          ? position.since
          : Session.field(json, 'latest', Number.isSafeInteger, context);
      const next = json.next;
      return {
        objects: users.map(toObject),
        nextCursor: next ? encodePosition({ after: next, since }) : undefined,
        watermark: next ? undefined : encodePosition({ seq: since }),
      };
    });
  }

  deltaImport(watermark, pageSize) {
    return guard(() => {
      const { seq } = decodePosition(watermark, 'watermark');
      if (!Number.isSafeInteger(seq) || seq < 0) {
        throw invalidInput('the watermark holds no change number');
      }
      const limit = Math.max(1, Math.min(pageSize, API_MAX_PAGE));
      const context = 'reading the change feed';
      const json = this.call('GET', `/changes?since=${seq}&limit=${limit}`, undefined, 200, context);
      const changes = Session.field(json, 'changes', Array.isArray, context);
      const latest = Session.field(json, 'latest', Number.isSafeInteger, context);
      let last = seq;
      const entries = changes.map((change) => {
        last = change.seq;
        if (change.type === 'delete') {
          return { tag: 'delete', val: { objectType: USER, anchor: String(change.id) } };
        }
        if (change.type === 'upsert') {
          return { tag: 'upsert', val: toObject(change.user) };
        }
        throw new ConnectorError('internal', `${context}: unknown change type '${change.type}'`);
      });
      return { entries, watermark: encodePosition({ seq: last }), more: last < latest };
    });
  }

  /** One user as the API has it now, or none (undefined) when it has no such user. */
  read(target) {
    return guard(() => {
      checkType(target.objectType);
      const path = `${this.basePath}/users/${encodeURIComponent(target.anchor)}`;
      const response = this.http.request('GET', path, undefined);
      if (response.status === 404) {
        return undefined;
      }
      if (response.status !== 200) {
        throw fromResponse(`reading user ${target.anchor}`, response);
      }
      return toObject(response.json);
    });
  }

  /** One result per change, in order; a failed change does not stop the others. */
  export(changes) {
    return changes.map((change) => {
      try {
        return { tag: 'ok', val: this.apply(change) };
      } catch (thrown) {
        return { tag: 'err', val: errorRecord(thrown) };
      }
    });
  }

  apply(change) {
    const { tag, val } = change;
    switch (tag) {
      case 'add': {
        checkType(val.objectType);
        const body = createBody(val.attributes);
        const context = `creating user '${body.userName}'`;
        return toObject(this.call('POST', '/users', body, 201, context));
      }
      case 'update': {
        checkType(val.target.objectType);
        const path = `/users/${encodeURIComponent(val.target.anchor)}`;
        const context = `updating user ${val.target.anchor}`;
        const body = patchBody(val.changes);
        // Nothing to change: answer with the user as it is (and 404 if it is gone).
        const json =
          body === undefined
            ? this.call('GET', path, undefined, 200, context)
            : this.call('PATCH', path, body, 200, context);
        return toObject(json);
      }
      case 'delete': {
        checkType(val.objectType);
        const context = `deleting user ${val.anchor}`;
        this.call('DELETE', `/users/${encodeURIComponent(val.anchor)}`, undefined, 204, context);
        return undefined;
      }
      case 'rename': {
        // The API keeps the id when the userName changes: a rename is a new userName.
        checkType(val.target.objectType);
        const context = `renaming user ${val.target.anchor} to '${val.newName}'`;
        const path = `/users/${encodeURIComponent(val.target.anchor)}`;
        return toObject(this.call('PATCH', path, { set: { userName: val.newName } }, 200, context));
      }
      default:
        throw invalidInput(`unknown change '${tag}'`);
    }
  }
}

/** The component's export: `ferry:connector/connector@0.2.0`. */
export const connector = {
  describe() {
    return {
      name: NAME,
      version: VERSION,
      description: 'Provisions users into an HTTP/JSON users API (an example connector in JavaScript).',
      parameters: PARAMETERS,
      features: { deltaImport: true, groups: false, passwords: false, rename: true },
    };
  },
  Session,
};
