import type { Context } from 'hono';
import { AppError } from '../src/errors.js';
import type { IntakeLimit } from '../src/env.js';
import { senderOfAddress, windowWords } from '../src/intake/intake-gate.js';
import { clientAddress } from '../src/web/session.js';
import type { AppEnv } from './app-env.js';

/** A report refused because its sender made as many as INTAKE_RATE_LIMIT allows (429, with Retry-After). */
export class IntakeLimited extends AppError {
  constructor(
    readonly limit: IntakeLimit,
    readonly retryAfterS: number,
  ) {
    super(
      'rate_limited',
      `too many reports from this address: at most ${limit.reports} in ${windowWords(limit.windowS, 'en')}; send again in ${retryAfterS} s, or call the 12345 or 12369 hotline`,
    );
  }
}

/**
 * Makes a report through the gate of the public channels: the sender (the
 * client's network address) is counted first and refused when over its
 * limit, and the count taken back when no new report came of it (refused,
 * or the replay of one made before). Signed-in staff typing a report in for
 * somebody are not counted.
 */
export async function throughIntakeGate<T extends { replayed: boolean }>(c: Context<AppEnv>, make: () => Promise<T>): Promise<T> {
  const gate = c.get('deps').intakeGate;
  if (!gate || c.get('principal')) return make();
  const sender = senderOfAddress(clientAddress(c));
  const answer = await gate.take(sender);
  if (!answer.ok) {
    // Said without the address: a flood shows as many of these lines.
    c.get('deps').logger.info({ reqId: c.get('requestId'), retryAfterS: answer.retryAfterS }, 'report refused: its sender reached INTAKE_RATE_LIMIT');
    c.header('Retry-After', String(answer.retryAfterS));
    throw new IntakeLimited(gate.limit, answer.retryAfterS);
  }
  let made: T;
  try {
    made = await make();
  } catch (err) {
    await gate.giveBack(sender);
    throw err;
  }
  if (made.replayed) await gate.giveBack(sender);
  return made;
}
