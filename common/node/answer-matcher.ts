import type net from 'node:net';

/** How much of an answer is searched for the expected text. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Reads what a program answers on a TCP connection for a text it must contain (a probe's
 * `expect`): the text may arrive split across reads; at most `max` bytes are read.
 */
export class AnswerMatcher {
  private answer = Buffer.alloc(0);
  private readonly wanted: Buffer;

  constructor(
    readonly expect: string,
    private readonly max = MAX_ANSWER_BYTES,
  ) {
    this.wanted = Buffer.from(expect, 'utf8');
  }

  /** 'found' once the text has been read; 'too-long' when `max` bytes came without it; else 'more'. */
  push(chunk: Uint8Array): 'found' | 'more' | 'too-long' {
    // The search starts where the text could begin in what came before (it may straddle reads).
    const from = Math.max(0, this.answer.length - this.wanted.length + 1);
    this.answer = Buffer.concat([this.answer, chunk]);
    if (this.answer.includes(this.wanted, from)) return 'found';
    return this.answer.length > this.max ? 'too-long' : 'more';
  }

  /** The start of the answer, quoted as JSON (\r and \n visible), for messages; '' before any byte came. */
  said(): string {
    return this.answer.length ? JSON.stringify(this.answer.subarray(0, 80).toString('latin1')) : '';
  }
}

/**
 * Asks for an answer on a connecting socket: writes `send` (if any) once connected, then feeds
 * what comes back to a matcher, and reports once: the text found, more than its bytes without it,
 * or the connection closed first. The caller times it out and destroys the socket.
 */
export function awaitAnswer(socket: net.Socket, ask: { send?: string | undefined; text: string }, settle: (r: 'found' | 'too-long' | 'closed', answer: AnswerMatcher) => void): AnswerMatcher {
  const answer = new AnswerMatcher(ask.text);
  socket.once('connect', () => {
    if (ask.send !== undefined) socket.write(ask.send);
  });
  socket.on('data', (chunk: Buffer) => {
    const r = answer.push(chunk);
    if (r !== 'more') settle(r, answer);
  });
  socket.once('end', () => settle('closed', answer));
  return answer;
}
