// A Ferry connector in JavaScript, from the SDK's template: it keeps users in memory.
//
// Copy this file to start a connector of your own, then replace the Map with calls to
// your target (through the host's `net` capability: see plugins/examples/js-http).
// sdk/js/README.md walks through it; wit/ documents every type and function.
//
// Conventions of componentize-js, the tool that turns this module into a component:
// * the export `connector` is the interface `ferry:connector/connector`; its `Session`
//   class is the `session` resource;
// * WIT names are camelCase (`full-import` is `fullImport`, `object-type` is
//   `objectType`); variants are `{tag, val}`; enums are strings; an `option` is the
//   value or `undefined`; s64 and u64 are BigInts;
// * a function returning `result<T, error>` returns T, or throws an object whose
//   `payload` is the error record `{kind, message, attribute}`; throwing anything else
//   stops the instance;
// * host imports name the contract version of the wit/ folder you build against
//   (`ferry:connector/log@0.2.0`): another version fails the build with
//   `Error loading module "ferry:connector/log@..."`.

import { log } from 'ferry:connector/log@0.2.0';

/** A failure for the host: `kind` decides what it does (see types.wit, error-kind). */
class ConnectorError extends Error {
  constructor(kind, message, attribute) {
    super(message);
    this.payload = { kind, message, attribute };
  }
}

/** The attributes of a user; `id` is the anchor. */
const ATTRIBUTES = [
  { name: 'id', valueType: 'string', readOnly: true },
  { name: 'userName', valueType: 'string', required: true },
  { name: 'displayName', valueType: 'string' },
  { name: 'email', valueType: 'string' },
  { name: 'active', valueType: 'boolean' },
];

/** Checks an attribute a change writes: known, writable, of the right type, one value. */
function checkWrite(name, values) {
  const attribute = ATTRIBUTES.find((a) => a.name === name);
  if (!attribute || attribute.readOnly) {
    throw new ConnectorError('invalid-input', `'${name}' cannot be written`, name);
  }
  if (values.length > 1 || values.some((v) => v.tag !== attribute.valueType)) {
    throw new ConnectorError('invalid-input', `'${name}' takes one ${attribute.valueType}`, name);
  }
}

class Session {
  /** Opens a session with the app's settings (checked and defaulted by the host). */
  static open(settings) {
    const prefix = settings.find((s) => s.name === 'id-prefix').value.val;
    return new Session(prefix);
  }

  constructor(prefix) {
    this.prefix = prefix;
    this.next = 1;
    /** Users by anchor: each a Map of attribute name to values. */
    this.users = new Map();
  }

  testConnection() {
    // A real connector reaches its target here and throws if it cannot.
  }

  schema() {
    return {
      objectTypes: [
        {
          name: 'user',
          anchorAttributes: ['id'],
          attributes: ATTRIBUTES.map((a) => ({
            name: a.name,
            valueType: a.valueType,
            multiValued: false,
            required: a.required === true,
            readOnly: a.readOnly === true,
            secret: false,
            referenceTypes: [],
            description: undefined,
          })),
        },
      ],
    };
  }

  /** Pages through the users; the cursor is the number of users already sent. */
  fullImport(cursor, pageSize) {
    const start = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(start) || start < 0) {
      throw new ConnectorError('invalid-input', `not a cursor of this connector: ${cursor}`);
    }
    const anchors = [...this.users.keys()];
    const page = anchors.slice(start, start + pageSize);
    const end = start + page.length;
    return {
      objects: page.map((anchor) => this.object(anchor)),
      nextCursor: end < anchors.length ? String(end) : undefined,
      watermark: undefined,
    };
  }

  deltaImport() {
    throw new ConnectorError('unsupported', 'this connector has no change feed');
  }

  read(target) {
    return this.users.has(target.anchor) ? this.object(target.anchor) : undefined;
  }

  /** One result per change, in order: `{tag: 'ok', val}` or `{tag: 'err', val: error}`. */
  export(changes) {
    return changes.map((change) => {
      try {
        return { tag: 'ok', val: this.apply(change) };
      } catch (thrown) {
        const error = thrown.payload || { kind: 'internal', message: String(thrown) };
        return { tag: 'err', val: error };
      }
    });
  }

  apply({ tag, val }) {
    switch (tag) {
      case 'add': {
        const user = new Map();
        for (const { name, values } of val.attributes) {
          checkWrite(name, values);
          user.set(name, values);
        }
        const userName = user.get('userName');
        if (!userName || userName.length === 0) {
          throw new ConnectorError('invalid-input', "'userName' is required", 'userName');
        }
        const taken = [...this.users.values()].some(
          (other) => other.get('userName')[0].val === userName[0].val,
        );
        if (taken) {
          throw new ConnectorError('already-exists', `'${userName[0].val}' exists already`);
        }
        const anchor = `${this.prefix}${this.next}`;
        this.next += 1;
        this.users.set(anchor, user);
        log('info', `added user ${anchor}`);
        return this.object(anchor);
      }
      case 'update': {
        const user = this.existing(val.target.anchor);
        for (const change of val.changes) {
          const name = change.tag === 'clear' ? change.val : change.val.name;
          const values = change.tag === 'clear' ? [] : change.val.values;
          checkWrite(name, values);
          const current = user.get(name) || [];
          if (change.tag === 'remove-values') {
            // Single-valued: removing the value it holds clears it.
            if (values.length && current.length && current[0].val === values[0].val) {
              user.delete(name);
            }
          } else if (change.tag === 'clear' || values.length === 0) {
            user.delete(name);
          } else {
            user.set(name, values);
          }
        }
        return this.object(val.target.anchor);
      }
      case 'delete':
        this.existing(val.anchor);
        this.users.delete(val.anchor);
        return undefined;
      default:
        throw new ConnectorError('unsupported', `this connector does not do '${tag}'`);
    }
  }

  existing(anchor) {
    const user = this.users.get(anchor);
    if (!user) {
      throw new ConnectorError('not-found', `no user '${anchor}'`);
    }
    return user;
  }

  object(anchor) {
    const attributes = [{ name: 'id', values: [{ tag: 'string', val: anchor }] }];
    for (const [name, values] of this.users.get(anchor)) {
      attributes.push({ name, values });
    }
    return { objectType: 'user', anchor, attributes };
  }
}

/** The component's export, `ferry:connector/connector@0.2.0`. */
export const connector = {
  describe() {
    return {
      name: 'js-template',
      version: '0.1.0',
      description: 'Keeps users in memory (the JavaScript SDK template).',
      parameters: [
        {
          name: 'id-prefix',
          description: 'What the id of every new user starts with.',
          parameterType: 'string',
          required: false,
          secret: false,
          default: '"user-"',
        },
      ],
      features: { deltaImport: false, groups: false, passwords: false, rename: false },
    };
  },
  Session,
};
