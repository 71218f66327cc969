import net from 'node:net';

/** A redis reply: a string, an integer, null (nil), an array, or an error reply. */
export type Reply = string | number | null | Reply[] | { error: string };

const encode = (args: readonly string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** Parses one RESP2 reply at `at`; null when more bytes are needed. */
export function parseReply(buf: string, at = 0): { value: Reply; end: number } | null {
  const nl = buf.indexOf('\r\n', at);
  if (nl < 0) return null;
  const type = buf[at];
  const line = buf.slice(at + 1, nl);
  switch (type) {
    case '+':
      return { value: line, end: nl + 2 };
    case '-':
      return { value: { error: line }, end: nl + 2 };
    case ':':
      return { value: Number(line), end: nl + 2 };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: nl + 2 };
      if (buf.length < nl + 2 + len + 2) return null;
      return { value: buf.slice(nl + 2, nl + 2 + len), end: nl + 4 + len };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: nl + 2 };
      const items: Reply[] = [];
      let end = nl + 2;
      for (let i = 0; i < count; i += 1) {
        const r = parseReply(buf, end);
        if (!r) return null;
        items.push(r.value);
        end = r.end;
      }
      return { value: items, end };
    }
    default:
      return { value: { error: `unexpected reply type ${JSON.stringify(type)}` }, end: buf.length };
  }
}

/**
 * Sends commands to a redis server on one fresh connection, one after the other, and resolves
 * their replies; rejects on a timeout (whole exchange) or a closed connection.
 */
export function redisCommands(host: string, port: number, commands: readonly (readonly string[])[], timeoutMs = 1000): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let inbox = '';
    const replies: Reply[] = [];
    const timer = setTimeout(() => finish(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    const finish = (e: Error | null) => {
      clearTimeout(timer);
      s.destroy();
      if (e) reject(e);
      else resolve(replies);
    };
    s.on('connect', () => s.write(commands.map(encode).join('')));
    s.on('data', (d) => {
      inbox += d.toString('latin1');
      for (;;) {
        const r = parseReply(inbox);
        if (!r) break;
        replies.push(r.value);
        inbox = inbox.slice(r.end);
        if (replies.length === commands.length) return finish(null);
      }
    });
    s.on('error', (e) => finish(e));
    s.on('close', () => finish(new Error(`${host}:${port} closed the connection`)));
  });
}

/** True when a redis server answers PING at host:port within `timeoutMs`. */
export async function answersPing(host: string, port: number, timeoutMs = 150): Promise<boolean> {
  try {
    const [r] = await redisCommands(host, port, [['PING']], timeoutMs);
    return r === 'PONG';
  } catch {
    return false;
  }
}
