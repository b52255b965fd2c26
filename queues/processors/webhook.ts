import { createHmac } from 'node:crypto';

/**
 * Signed POSTs to a bureau's own server: assignments (`dispatch` job) and
 * notices (催办, 督办, 重办 from the `notify` job) share the headers, the
 * signature and what counts as delivered or worth retrying.
 */

export const SIGNATURE_HEADER = 'X-Intake-Signature';
export const TIMESTAMP_HEADER = 'X-Intake-Timestamp';
export const DELIVERY_HEADER = 'X-Intake-Delivery';

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`). */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A POST the bureau's server did not take; `retryable` when a later attempt may succeed. */
export class WebhookError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}

/**
 * POSTs `body` signed with `secret`. Resolves on any 2xx; throws a
 * WebhookError otherwise: retryable for network errors, 5xx, 408 and 429,
 * final for any other answer.
 */
export async function postSignedWebhook(
  fetchFn: typeof fetch,
  target: { url: string; secret: string; deliveryId: string },
  body: string,
): Promise<void> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  let res: Response;
  try {
    res = await fetchFn(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signWebhook(target.secret, timestamp, body),
        [TIMESTAMP_HEADER]: timestamp,
        [DELIVERY_HEADER]: target.deliveryId,
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new WebhookError(`network: ${(err as Error).message}`, true);
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return;
  throw new WebhookError(`HTTP ${res.status}`, res.status >= 500 || res.status === 408 || res.status === 429);
}
