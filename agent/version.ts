/** The agent's version, reported over the control API. */
export const AGENT_VERSION = '0.1.0';
