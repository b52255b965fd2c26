import type { Context } from 'hono';
import { AppError } from '../src/errors.js';
import type { IntakeLimit } from '../src/env.js';
import { admitReport, senderOfAddress, windowWords } from '../src/intake/intake-gate.js';
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
 * Makes a report through the gate of the public channels, the sender being
 * the client's network address (`admitReport`; `earlier` finds the report a
 * retry sent again). Signed-in staff typing a report in for somebody are not counted.
 */
export async function throughIntakeGate<T extends { replayed: boolean }>(
  c: Context<AppEnv>,
  make: () => Promise<T>,
  earlier?: () => Promise<T | null>,
): Promise<T> {
  const gate = c.get('deps').intakeGate;
  if (!gate || c.get('principal')) return make();
  const admitted = await admitReport(gate, senderOfAddress(clientAddress(c)), make, earlier);
  if (admitted.ok) return admitted.made;
  // Said without the address: a flood shows as many of these lines.
  c.get('deps').logger.info({ reqId: c.get('requestId'), retryAfterS: admitted.retryAfterS }, 'report refused: its sender reached INTAKE_RATE_LIMIT');
  c.header('Retry-After', String(admitted.retryAfterS));
  throw new IntakeLimited(gate.limit, admitted.retryAfterS);
}
