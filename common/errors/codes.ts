/**
 * The registry of stable error codes. A code never changes meaning once released; the text is the
 * default human summary, the thrown message adds the particulars.
 */
export const ERROR_CODES = {
  CONFIG_E_YAML: 'the configuration is not valid YAML',
  CONFIG_E_INVALID: 'the configuration failed validation',
  CONFIG_E_UNREADABLE: 'the configuration file cannot be read',
  STORE_E_CORRUPT: 'a durable file is corrupt and no good copy exists',
  STORE_E_IO: 'a durable file could not be written',
  WIRE_E_FRAME_TOO_LARGE: 'a message exceeds the size limit',
  WIRE_E_MALFORMED: 'a message is not valid JSON or does not match the protocol',
  WIRE_E_VERSION: 'the peer speaks an unsupported protocol version',
  RPC_E_UNKNOWN_METHOD: 'no such method',
  RPC_E_BAD_PARAMS: 'the parameters of the request are invalid',
  RPC_E_INTERNAL: 'the request failed inside the agent',
  AGENT_E_UNKNOWN_SERVICE: 'no service of that name is configured',
  AGENT_E_UNREACHABLE: 'no agent answers on the control socket',
  AGENT_E_ALREADY_RUNNING: 'another agent already uses this state directory',
  AGENT_E_STATE_DIR: 'the state directory cannot be used',
  SUPERVISOR_E_SPAWN: 'the program could not be started',
  SUPERVISOR_E_USER: 'the configured user does not exist',
  SUPERVISOR_E_CWD: 'the working directory cannot be used',
  LIVENESS_E_NOTIFY: 'the notify socket cannot be used',
  CLI_E_USAGE: 'the command line is not valid',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
