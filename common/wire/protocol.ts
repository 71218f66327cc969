/** Version of the agent⇄manager and agent⇄agent protocol; a peer with another major version is refused. */
export const PROTOCOL_VERSION = 1;

/** The largest single message accepted on any Armory connection, checked before buffering. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
