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
  AGENT_E_CONFIG_UNSIGNED: 'this agent accepts only configurations signed by its manager',
  AGENT_E_CONFIG_SIGNATURE: 'the configuration signature does not verify',
  AGENT_E_CONFIG_SIGNER: 'the configuration was not signed by a manager of this cluster',
  AGENT_E_CONFIG_STALE: 'the configuration is not newer than the one the agent runs',
  AGENT_E_FORBIDDEN: 'the caller may not do this',
  AGENT_E_TLS: 'the agent TLS material cannot be used',
  SUPERVISOR_E_SPAWN: 'the program could not be started',
  SUPERVISOR_E_USER: 'the configured user does not exist',
  SUPERVISOR_E_CWD: 'the working directory cannot be used',
  LIVENESS_E_NOTIFY: 'the notify socket cannot be used',
  CLI_E_USAGE: 'the command line is not valid',
  MANAGER_E_UNKNOWN_NODE: 'no enrolled node of that name',
  PKI_E_NAME: 'a cluster, node or manager name cannot go into a certificate',
  PKI_E_OPTIONS: 'the certificate request is not valid',
  PKI_E_CERT_INVALID: 'a certificate cannot be parsed or is not the certificate it should be',
  PKI_E_CERT_MISSING: 'a certificate file is missing',
  PKI_E_KEY_MISSING: 'a private key file is missing',
  PKI_E_KEY_INVALID: 'a private key file does not hold a usable private key',
  PKI_E_KEY_MISMATCH: 'a private key does not belong to its certificate',
  PKI_E_KEY_WRAP: 'a private key cannot be wrapped or unwrapped for storage',
  PKI_E_UNSAFE_PERMISSIONS: 'a private key file or its folder is open to other users',
  PKI_E_IO: 'a certificate or key file cannot be read or written',
  ENROLL_E_OPTIONS: 'the enrollment request is not valid',
  ENROLL_E_CONNECT: 'the host cannot be reached over SSH',
  ENROLL_E_AUTH: 'the host refused the SSH credentials',
  ENROLL_E_HOST_KEY_CHANGED: 'the host presented another SSH host key than the one pinned for it',
  ENROLL_E_HOST_KEY_REJECTED: 'the host key was not confirmed or does not match the trusted fingerprint',
  ENROLL_E_UNSUPPORTED: 'the host cannot run the agent',
  ENROLL_E_COMMAND: 'a command run on the host over SSH failed',
  ENROLL_E_BUNDLE: 'the agent bundle for the host is incomplete on this machine',
  ENROLL_E_UPLOAD: 'the agent bundle could not be uploaded or its checksums do not match',
  ENROLL_E_TIMEOUT: 'an enrollment step did not finish in time',
  ENROLL_E_AGENT_START: 'the installed agent did not start or did not answer over mutual TLS',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
