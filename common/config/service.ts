import { z } from 'zod';
import { name, SIGNALS } from './names.js';
import { probeSchema } from './probes.js';
import { duration, size } from './units.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name is letters, digits and _');
const hostPort = z.string().max(262).regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'write host:port, like 127.0.0.1:6380');
const absolutePath = z.string().regex(/^\//, 'write an absolute path (starting with /)').max(4096);

export const restartSchema = z
  .strictObject({
    policy: z
      .enum(['never', 'on-failure', 'always'])
      .default('always')
      .describe('When to restart: never, on-failure (non-zero exit, signal or hang) or always.'),
    backoff: z
      .strictObject({
        initial: duration({ max: 3_600_000 }).prefault('100ms').describe('Delay before the second restart in a row; the first restart after a stable run is immediate.'),
        factor: z.number().min(1).max(10).default(2).describe('Each further restart in a row waits this many times longer.'),
        max: duration({ max: 86_400_000 }).prefault('30s').describe('The longest delay between restarts.'),
        jitter: z.number().min(0).max(1).default(0.1).describe('Fraction of the delay randomised (0 to 1) so that many programs do not restart in step.'),
      })
      .prefault({})
      .describe('Exponential backoff between restarts in a row.'),
    minInterval: duration({ max: 3_600_000 }).prefault('100ms').describe('Never start the program again sooner than this after its previous start.'),
    stableAfter: duration({ min: 1, max: 86_400_000 }).prefault('10s').describe('A run this long counts as stable: the backoff starts again from the beginning.'),
    budget: z
      .strictObject({
        restarts: z.number().int().min(0).max(10_000).default(5).describe('Restarts allowed within the window.'),
        window: duration({ min: 1000, max: 86_400_000 }).prefault('1m').describe('The sliding window the restart budget counts over.'),
      })
      .prefault({})
      .describe('The restart budget: N restarts within a window.'),
    exhausted: z
      .enum(['escalate', 'give-up'])
      .default('escalate')
      .describe('When the budget is spent: escalate to the next node of the placement, or give up and alert.'),
  })
  .prefault({})
  .describe('Restart policy.');

export const serviceSchema = z
  .strictObject({
    command: z.string().min(1, 'the command is empty').max(4096).describe('The program to run: an absolute path or a name looked up in PATH.'),
    args: z.array(z.string().max(65_536)).max(4096).default([]).describe('Arguments passed to the program.'),
    cwd: absolutePath.default('/').describe('Working directory of the program.'),
    env: z.record(envName, z.string().max(65_536)).default({}).describe('Environment variables added to the agent\'s own.'),
    user: z.string().regex(/^[a-z_][a-z0-9_-]*\$?$|^\d+$/i, 'a user name or numeric uid').optional().describe('Run the program as this user (default: the agent\'s user).'),
    autostart: z.boolean().default(true).describe('Start the program when the agent starts.'),
    stop: z
      .strictObject({
        signal: z.enum(SIGNALS).default('SIGTERM').describe('Signal sent to the program\'s process group to stop it.'),
        grace: duration({ max: 3_600_000 }).prefault('10s').describe('Time the program has to exit before SIGKILL to the whole group.'),
      })
      .prefault({})
      .describe('How the program is stopped.'),
    restart: restartSchema,
    logs: z
      .strictObject({
        maxSize: size({ min: 4096, max: 1024 ** 3 }).prefault('10MB').describe('Size at which the log file is rotated.'),
        keep: z.number().int().min(0).max(100).default(3).describe('Rotated log files kept.'),
      })
      .prefault({})
      .describe('stdout/stderr capture.'),
    notify: z.boolean().default(false).describe('The program speaks the systemd notify protocol (NOTIFY_SOCKET); ready when it sends READY=1.'),
    watchdog: duration({ min: 10, max: 3_600_000 }).optional().describe('The program must send WATCHDOG=1 at least this often (needs notify).'),
    heartbeat: z
      .strictObject({
        file: absolutePath.describe('File whose modification time the program advances.'),
        timeout: duration({ min: 10 }).prefault('5s').describe('The program counts as hung when the file is older than this.'),
      })
      .optional()
      .describe('Heartbeat file, for programs that cannot change.'),
    probes: z.array(probeSchema).max(16).default([]).describe('Health probes; the program is ready once all pass and hung when one fails repeatedly.'),
    startTimeout: duration({ min: 10 }).prefault('30s').describe('A program not ready by then is handled as a failure.'),
    placement: z
      .strictObject({
        nodes: z.array(name('node')).max(64).default([]).describe('Nodes that may run the service, in priority order (empty: the local node).'),
        mode: z.enum(['active-standby', 'all']).default('active-standby').describe('Run on the first healthy node only, or on all of them.'),
      })
      .prefault({})
      .describe('Where the service runs.'),
    checkpoint: z
      .strictObject({
        path: absolutePath
          .optional()
          .describe('File where the program keeps its state, for a program that does not use the checkpoint API (ARMORY_CHECKPOINT_SOCKET): the agent takes it as a checkpoint and, where it is missing or older than a checkpoint from another node, puts the newest one back before the program starts.'),
        every: duration({ min: 100 }).prefault('1m').describe('With path: how often the agent takes the file as a checkpoint (only when it changed).'),
        keep: z.number().int().min(1).max(1000).default(3).describe('Checkpoint versions kept.'),
        maxSize: size({ min: 1, max: 1024 ** 3 }).prefault('64MB').describe('The largest checkpoint accepted.'),
        replicate: z.boolean().default(true).describe('Replicate checkpoints to the standby nodes (the other nodes of the placement and of a group carrying the service), tagged with the epoch.'),
      })
      .optional()
      .describe('Application state snapshots.'),
    mirror: z
      .strictObject({
        folders: z.array(absolutePath).min(1).max(32).describe('Folders whose writes are duplicated.'),
        to: absolutePath.optional().describe('A local folder (on another disk) that receives the duplicates: the copy of /var/lib/x goes to TO/var/lib/x. It must exist; missing, or no longer a mount point, it counts as down.'),
        standbys: z.boolean().default(true).describe('Duplicate writes to the standby nodes too.'),
        scrub: duration({ min: 1000 }).prefault('1h').describe('How often copies are compared and repaired.'),
        lagAlert: duration({ min: 10 }).prefault('5s').describe('Alert when the oldest unreplicated write is older than this.'),
        interval: duration({ min: 1, max: 10_000 })
          .prefault('50ms')
          .describe(
            'A file written without pause (an append-only log) is copied to each target at most once in this long; a copy a waitForMirror shim waits for never waits for it. Shorter: the copies lag less behind; longer: less CPU on this node and the standbys (each copy is a call to each standby).',
          ),
      })
      .optional()
      .describe('File-write duplication.'),
    vip: z
      .strictObject({
        address: z
          .string()
          .regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, 'write an IPv4 address with its prefix, like 192.168.1.50/24')
          .describe('The virtual IP address with prefix length.'),
        interface: z
          .union([z.string().min(1).max(15), z.record(name('node'), z.string().min(1).max(15))])
          .describe('Network interface, the same on every node or one per node.'),
      })
      .optional()
      .describe('Virtual IP that follows the active node.'),
    shims: z
      .array(
        z.strictObject({
          listen: hostPort.describe('Where the client-side end listens (host:port); client programs connect here instead of to the service.'),
          target: hostPort.describe('Where the server-side end connects (host:port of the real service, on the node where it runs).'),
          port: z.number().int().min(1).max(65535).describe('TCP port of the server-side end (mutual TLS) on the node where the service runs, reached through the VIP when there is one.'),
          clients: z.array(name('node')).max(64).default([]).describe('Nodes where the client-side end runs (empty: every node of the cluster).'),
          onMove: z
            .enum(['close', 'reopen', 'resend'])
            .default('close')
            .describe(
              "What a session does when the service moved to another node: close it (the client program sees an orderly close), reopen (the client's connection goes on to the new server, over a new connection to the service), or resend: reopen and send the new server the request the old one did not answer, so the client sees a slower reply instead of a closed connection. With resend a session also outlives a restart of the service on the same node (the service's process died: crash, hang, restart): the request goes to the new process once the supervisor says it is ready, so a service that accepts connections before it serves (redis while it loads its data) needs a readiness probe that fails until then. resend is for request/response protocols whose client waits for each reply before its next request (redis-cli and most redis clients, HTTP/1.1 without pipelining, most SQL drivers) and whose requests are safe to send twice (the old service may have done the request and died before answering), with no state held per connection (logins, selected databases, open transactions, subscriptions): a new connection starts without it.",
            ),
          buffer: size({ min: 4096, max: 1024 ** 3 }).prefault('4MB').describe('Replay buffer per session and direction; when full, the end stops reading from its program (backpressure).'),
          brokenFor: duration({ min: 100 }).prefault('30s').describe('How long a session may stay broken before both ends close it.'),
          frameSize: size({ min: 1024, max: 1024 ** 2 }).prefault('64KB').describe('The most data one frame carries; larger frames from the other end are refused.'),
          heartbeat: duration({ min: 10, max: 60_000 }).prefault('1s').describe('Each end sends a heartbeat this often; a path silent for three heartbeats is dropped and resumed.'),
          maxSessions: z.number().int().min(1).max(100_000).default(1024).describe('Sessions one end carries at once; more connections are refused.'),
          transport: z
            .enum(['mtls', 'tcp'])
            .default('mtls')
            .describe(
              'How the data of a session travels between the ends: mtls (encrypted and authenticated, the default) or tcp (plain TCP, about twice as fast: the session is still opened over mutual TLS, and each path after proves it knows the session secret by HMAC challenge; the data itself is as readable and alterable on the network as the clients\' own plain TCP connection was — only for services whose clients speak plain TCP anyway).',
            ),
          tcpPort: z.number().int().min(1).max(65535).optional().describe('TCP port of the server-side end for plain paths (transport tcp), on the node where the service runs (default: port + 1).'),
          waitForMirror: z
            .boolean()
            .default(false)
            .describe(
              "The server-side end gives the service's replies to the client only once the service's mirror (mirror.to and the standbys) has every write the service made before replying, so that a client never sees an acknowledgement for a write a standby does not have, even when the active node fails right after. The cost: each reply waits for a round trip to the mirror targets (replies that arrive together share one); while no target can be reached, replies are held (the session stays open and the client waits) — that is what keeps acknowledged writes from being lost. A reply is never given when the mirror closes (this node stopped being active): the session is closed instead. Needs mirror with standbys: true or a to folder.",
            ),
        })
        .refine((s) => s.transport !== 'tcp' || dataPortOf(s) !== s.port, { message: 'tcpPort must differ from port', path: ['tcpPort'] })
        .refine((s) => s.transport !== 'tcp' || dataPortOf(s) <= 65535, { message: 'port is 65535: set tcpPort', path: ['tcpPort'] }),
      )
      .max(32)
      .default([])
      .describe('Session shims for the service\'s clients.'),
  })
  .describe('A program Armory keeps running.');

export type ServiceConfig = z.output<typeof serviceSchema>;

/** The port of a shim's plain TCP paths (transport tcp) on the server side. */
export function dataPortOf(shim: { port: number; tcpPort?: number | undefined }): number {
  return shim.tcpPort ?? shim.port + 1;
}
export type RestartConfig = ServiceConfig['restart'];
