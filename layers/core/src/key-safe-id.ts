/**
 * An id that can be part of a table key: tenant, episode and step (request) ids. Key-safe
 * characters only, and never `#`, which separates the parts of a key. The storage layer keys
 * items by such ids (isValidId) and the wire contract asks the same of a client's request_id,
 * which becomes part of its step's key; it lives in the core so that both import it downward.
 */

export const KEY_SAFE_ID_MAX_LENGTH = 128;

export const KEY_SAFE_ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:@=+-]{0,${KEY_SAFE_ID_MAX_LENGTH - 1}}$`);
