// Errors as the contract wants them: a kind the host acts on (retry, or the matching
// SCIM status), a message for the operator's and the IdP's logs, and the attribute the
// failure is about.
//
// componentize-js turns an exception thrown from an exported function that returns a
// `result` into the `err` case, taking the thrown value's own `payload` property as the
// error record. Anything else thrown (a plain `Error` from a bug) would trap the
// instance, so every export goes through `guard`, which turns surprises into `internal`.

/** The longest message passed on; the host bounds them too, this keeps them readable. */
const MAX_MESSAGE = 500;

/** A failure to report to the host, with its contract error record as `payload`. */
export class ConnectorError extends Error {
  /**
   * @param {'invalid-input'|'not-found'|'already-exists'|'permission-denied'|'unavailable'|'unsupported'|'internal'} kind
   * @param {string} message
   * @param {string} [attribute] the attribute the failure is about
   */
  constructor(kind, message, attribute) {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}...` : message;
    super(text);
    this.payload = { kind, message: text, attribute };
  }
}

/** Shorthands for the kinds a connector raises itself. */
export const invalidInput = (message, attribute) =>
  new ConnectorError('invalid-input', message, attribute);
export const unavailable = (message) => new ConnectorError('unavailable', message);
export const internal = (message) => new ConnectorError('internal', message);

/** The error kind for an HTTP status the API answered with. */
export function kindOfStatus(status) {
  switch (status) {
    case 400:
    case 422:
      return 'invalid-input';
    case 401:
    case 403:
      return 'permission-denied';
    case 404:
      return 'not-found';
    case 409:
      return 'already-exists';
    case 429: // rate limited
    case 502: // a proxy in front of the API could not reach it
    case 503:
    case 504:
      return 'unavailable';
    default:
      return 'internal';
  }
}

/**
 * The error for a failed HTTP exchange: `context` says what the connector was doing,
 * the API's own `{"error": ...}` message (or the start of its body) says why.
 */
export function fromResponse(context, response) {
  const said =
    response.json && typeof response.json.error === 'string'
      ? response.json.error
      : response.text.slice(0, 200);
  const kind = kindOfStatus(response.status);
  const hint = response.status === 401 ? ' (check the app\'s token setting)' : '';
  return new ConnectorError(kind, `${context}: the API answered ${response.status}${hint}: ${said}`);
}

/**
 * The error for a failure of the host's `net` capability (its `net-error` variant):
 * a refusal by the app's allow-list needs the operator; anything else may pass, so the
 * host should retry.
 */
export function fromNet(context, netError) {
  const tag = netError && netError.tag;
  const detail = netError && typeof netError.val === 'string' ? `: ${netError.val}` : '';
  if (tag === 'denied') {
    return new ConnectorError(
      'permission-denied',
      `${context}: the app's network allow-list refused it${detail}`,
    );
  }
  return unavailable(`${context}: ${tag || 'network failure'}${detail}`);
}

/** The contract error record of anything thrown: ours as it is, anything else `internal`. */
export function errorRecord(thrown) {
  if (thrown instanceof ConnectorError) {
    return thrown.payload;
  }
  const text = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return internal(`unexpected failure in the connector: ${text}`).payload;
}

/** Runs `body`; whatever it throws leaves as a `ConnectorError`. */
export function guard(body) {
  try {
    return body();
  } catch (thrown) {
    if (thrown instanceof ConnectorError) {
      throw thrown;
    }
    const record = errorRecord(thrown);
    throw new ConnectorError(record.kind, record.message, record.attribute);
  }
}
