/** Version of the agent⇄manager and agent⇄agent protocol; a peer with another major version is refused. */
export const PROTOCOL_VERSION = 1;

/** The largest single message accepted on any Armory connection, checked before buffering. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * What an agent's `hello` lists in `features` when it reads raw byte attachments on its control
 * connections (common/wire/line-framer.ts encodeFrame); a caller sends byte arrays as base64 to an
 * agent that does not list it (an older agent).
 */
export const WIRE_FEATURE_ATTACHMENTS = 'attachments';
