import type { Context } from 'hono';
import type { ScopedKey } from '../db/repositories/idempotency.repository.js';
import { AppError } from '../src/errors.js';
import { acceptReport, earlierReport, type AcceptedReport, type ReportInput } from '../src/intake/accept-report.js';
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

/** The gates whose service has said it (once each). */
const proxyWarned = new WeakSet<object>();

/**
 * Accepts a report of the web form or the API (`acceptReport`) through the
 * gate of the public channels (`admitReport`), the sender being the client's
 * network address; a retry of a report already made finds its case
 * (`earlierReport`). Signed-in staff typing a report in for somebody are not counted.
 */
export async function acceptPublicReport(c: Context<AppEnv>, input: ReportInput, idempotencyKey: ScopedKey | undefined): Promise<AcceptedReport> {
  const deps = c.get('deps');
  const { intakeGate: gate, env, logger } = deps;
  const make = () =>
    acceptReport(
      { db: deps.db, writer: deps.writer, clock: deps.clock, photos: deps.photos, onCommitted: deps.kickOutbox, requestId: c.get('requestId') },
      input,
      idempotencyKey,
    );
  if (!gate || c.get('principal')) return make();
  // Where the platform names the client (Workers: CF-Connecting-IP), a forwarded header says nothing of a proxy of the district's.
  if (!env.TRUST_PROXY && !deps.addressHeader && !proxyWarned.has(gate) && c.req.header('x-forwarded-for') !== undefined) {
    // Most likely a proxy in front and TRUST_PROXY not set: then every resident counts as the proxy's one address.
    proxyWarned.add(gate);
    logger.warn(
      'reports come with X-Forwarded-For but TRUST_PROXY is off: if a proxy or load balancer is in front, every resident counts as its one address for INTAKE_RATE_LIMIT; set TRUST_PROXY there',
    );
  }
  const admitted = await admitReport(gate, senderOfAddress(clientAddress(c)), make, () => earlierReport(deps.db, input, idempotencyKey));
  if (admitted.ok) return admitted.made;
  // Said without the address: a flood shows as many of these lines.
  logger.info({ reqId: c.get('requestId'), retryAfterS: admitted.retryAfterS }, 'report refused: its sender reached INTAKE_RATE_LIMIT');
  c.header('Retry-After', String(admitted.retryAfterS));
  throw new IntakeLimited(gate.limit, admitted.retryAfterS);
}
