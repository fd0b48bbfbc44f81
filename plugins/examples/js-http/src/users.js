// The one object type, `user`: its schema, and the conversions between the API's JSON
// users and the contract's objects, attributes and changes.
//
// Contract values are tagged (`{tag: 'string', val: 'x'}`); 64-bit integers and the
// seconds of a datetime are BigInts. The API speaks plain JSON: numbers, booleans,
// strings, RFC 3339 times, and a list of strings for the multi-valued `roles`.

import { internal, invalidInput } from './errors.js';

/** The object type's name. */
export const USER = 'user';

/** The attributes: name, value type, and what else the schema says of each. */
const ATTRIBUTES = [
  { name: 'id', type: 'string', readOnly: true, description: 'The API\'s id of the user; the anchor.' },
  { name: 'userName', type: 'string', required: true, description: 'Unique (case-insensitively).' },
  { name: 'displayName', type: 'string' },
  { name: 'givenName', type: 'string' },
  { name: 'familyName', type: 'string' },
  { name: 'email', type: 'string' },
  { name: 'active', type: 'boolean', description: 'False: the user cannot sign in.' },
  { name: 'employeeNumber', type: 'string' },
  { name: 'department', type: 'string' },
  { name: 'level', type: 'integer', description: 'From 0 to 99.' },
  { name: 'roles', type: 'string', multiValued: true, description: 'A set of role names.' },
  { name: 'updatedAt', type: 'datetime', readOnly: true, description: 'Set by the API on every change.' },
];

const BY_NAME = new Map(ATTRIBUTES.map((a) => [a.name, a]));

/** The contract's schema of this connector. */
export function schema() {
  return {
    objectTypes: [
      {
        name: USER,
        anchorAttributes: ['id'],
        attributes: ATTRIBUTES.map((a) => ({
          name: a.name,
          valueType: a.type,
          multiValued: a.multiValued === true,
          required: a.required === true,
          readOnly: a.readOnly === true,
          secret: false,
          referenceTypes: [],
          description: a.description,
        })),
      },
    ],
  };
}

/** Refuses an object type other than `user`. */
export function checkType(objectType) {
  if (objectType !== USER) {
    throw invalidInput(`unknown object type '${objectType}' (this connector has '${USER}')`);
  }
}

/** A user from the API as a contract object. */
export function toObject(user) {
  if (!user || typeof user !== 'object' || typeof user.id !== 'string') {
    throw internal(`the API sent a user without an id: ${JSON.stringify(user).slice(0, 200)}`);
  }
  const attributes = [];
  for (const attribute of ATTRIBUTES) {
    const raw = user[attribute.name];
    if (raw === undefined || raw === null) {
      continue;
    }
    const items = attribute.multiValued ? raw : [raw];
    if (!Array.isArray(items)) {
      throw internal(`the API sent a non-list '${attribute.name}' for user ${user.id}`);
    }
    attributes.push({
      name: attribute.name,
      values: items.map((item) => fromJson(item, attribute, user.id)),
    });
  }
  return { objectType: USER, anchor: user.id, attributes };
}

function fromJson(item, attribute, id) {
  const wrong = () =>
    internal(`the API sent ${JSON.stringify(item)} as '${attribute.name}' of user ${id}`);
  switch (attribute.type) {
    case 'string':
      if (typeof item !== 'string') throw wrong();
      return { tag: 'string', val: item };
    case 'boolean':
      if (typeof item !== 'boolean') throw wrong();
      return { tag: 'boolean', val: item };
    case 'integer':
      if (!Number.isSafeInteger(item)) throw wrong();
      return { tag: 'integer', val: BigInt(item) };
    case 'datetime': {
      const ms = typeof item === 'string' ? Date.parse(item) : NaN;
      if (Number.isNaN(ms)) throw wrong();
      // Floor division keeps the nanoseconds positive before 1970 too.
      const seconds = Math.floor(ms / 1000);
      return { tag: 'datetime', val: { seconds: BigInt(seconds), nanoseconds: (ms - seconds * 1000) * 1e6 } };
    }
    default:
      throw wrong();
  }
}

/** The attribute's schema entry, refusing unknown and read-only attributes. */
function writable(name) {
  const attribute = BY_NAME.get(name);
  if (!attribute) {
    throw invalidInput(`unknown attribute '${name}'`, name);
  }
  if (attribute.readOnly) {
    throw invalidInput(`'${name}' is set by the API and cannot be written`, name);
  }
  return attribute;
}

/** A contract value as the API's JSON, checked against the attribute's type. */
function toJson(value, attribute) {
  if (!value || value.tag !== attribute.type) {
    throw invalidInput(
      `'${attribute.name}' takes ${attribute.type} values, not ${value && value.tag}`,
      attribute.name,
    );
  }
  if (attribute.type === 'integer') {
    const number = Number(value.val);
    if (!Number.isSafeInteger(number)) {
      throw invalidInput(`'${attribute.name}' is out of range: ${value.val}`, attribute.name);
    }
    return number;
  }
  return value.val;
}

/** The JSON of an attribute's values: a list for `roles`, one value or null otherwise. */
function valuesToJson(attribute, values) {
  const json = values.map((v) => toJson(v, attribute));
  if (attribute.multiValued) {
    return json;
  }
  if (json.length > 1) {
    throw invalidInput(`'${attribute.name}' takes one value, not ${json.length}`, attribute.name);
  }
  return json.length === 0 ? null : json[0];
}

/** The body of a create (`POST /users`) for an add change's attributes. */
export function createBody(attributes) {
  const body = {};
  for (const { name, values } of attributes) {
    const attribute = writable(name);
    if (Object.prototype.hasOwnProperty.call(body, name)) {
      throw invalidInput(`attribute '${name}' is given twice`, name);
    }
    const json = valuesToJson(attribute, values);
    if (json !== null && !(Array.isArray(json) && json.length === 0)) {
      body[name] = json;
    }
  }
  if (body.userName === undefined) {
    throw invalidInput("'userName' is required", 'userName');
  }
  return body;
}

/**
 * The body of a `PATCH /users/{id}` for an update's attribute changes, or undefined
 * when they change nothing. Several changes of one attribute are folded first, so the
 * patch says what the changes mean together: a replace followed by an add-values is
 * one set of the combined values.
 */
export function patchBody(changes) {
  /** Per attribute: {set: values} or {add: [...], remove: [...]}, JSON values. */
  const edits = new Map();
  for (const change of changes) {
    const name = change.tag === 'clear' ? change.val : change.val.name;
    const attribute = writable(name);
    const given = change.tag === 'clear' ? [] : change.val.values.map((v) => toJson(v, attribute));
    const edit = edits.get(name) || { add: [], remove: [] };
    switch (change.tag) {
      case 'replace':
      case 'clear':
        edits.set(name, { set: distinct(given) });
        continue;
      case 'add-values':
        if (!attribute.multiValued) {
          // One value for a single-valued attribute: setting it is adding it.
          edits.set(name, { set: given });
          continue;
        }
        if (edit.set) {
          edit.set = distinct(edit.set.concat(given));
        } else {
          edit.add = distinct(edit.add.concat(given));
          edit.remove = edit.remove.filter((v) => !given.includes(v));
        }
        break;
      case 'remove-values':
        if (!attribute.multiValued) {
          throw invalidInput(`'${name}' is single-valued: replace or clear it`, name);
        }
        if (edit.set) {
          edit.set = edit.set.filter((v) => !given.includes(v));
        } else {
          edit.remove = distinct(edit.remove.concat(given));
          edit.add = edit.add.filter((v) => !given.includes(v));
        }
        break;
      default:
        throw invalidInput(`unknown attribute change '${change.tag}'`, name);
    }
    edits.set(name, edit);
  }
  const body = {};
  for (const [name, edit] of edits) {
    const attribute = BY_NAME.get(name);
    if (edit.set) {
      if (!attribute.multiValued && edit.set.length > 1) {
        throw invalidInput(`'${name}' takes one value, not ${edit.set.length}`, name);
      }
      body.set = body.set || {};
      body.set[name] = attribute.multiValued ? edit.set : edit.set.length ? edit.set[0] : null;
      continue;
    }
    if (edit.add.length) {
      body.add = body.add || {};
      body.add[name] = edit.add;
    }
    if (edit.remove.length) {
      body.remove = body.remove || {};
      body.remove[name] = edit.remove;
    }
  }
  return Object.keys(body).length ? body : undefined;
}

function distinct(values) {
  return values.filter((v, i) => values.indexOf(v) === i);
}
