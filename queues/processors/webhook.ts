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

/** Redirects followed for one delivery (307 and 308 only: they keep the method and the body). */
const MAX_REDIRECTS = 3;

/**
 * POSTs `body` signed with `secret`. Resolves on any 2xx; throws a
 * WebhookError otherwise: retryable for network errors, 5xx, 408 and 429,
 * final for any other answer. A 307 or 308 on the same host (http moved to
 * https too) is followed with the same POST, one to another host or from
 * https to http is final; a 301, 302 or 303 is final: following it would send a GET without the
 * assignment, which a server answering 200 would make look delivered.
 */
export async function postSignedWebhook(
  fetchFn: typeof fetch,
  target: { url: string; secret: string; deliveryId: string },
  body: string,
): Promise<void> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  let url = target.url;
  for (let hops = 0; ; hops++) {
    let res: Response;
    try {
      res = await fetchFn(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(target.secret, timestamp, body),
          [TIMESTAMP_HEADER]: timestamp,
          [DELIVERY_HEADER]: target.deliveryId,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new WebhookError(`network: ${(err as Error).message}`, true);
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url).href;
      const keepsPost = res.status === 307 || res.status === 308;
      // Only on the configured host (http moved to https there too): the signed assignment, with a reporter's contact
      // when shared, goes to no other host, nor from https to plain http, because a server said so.
      const sameServer = onSameHost(target.url, next);
      if (keepsPost && sameServer && hops < MAX_REDIRECTS) {
        url = next;
        continue;
      }
      throw new WebhookError(
        !keepsPost
          ? `HTTP ${res.status}: the webhook URL redirects to ${next}, where a POST is not sent again; set that address as the bureau's webhook`
          : !sameServer
            ? `HTTP ${res.status}: the webhook URL redirects to another host or to plain http (${next}), where the assignment is not sent; set that address as the bureau's webhook`
            : `HTTP ${res.status}: more than ${MAX_REDIRECTS} redirects (last to ${next})`,
        false,
      );
    }
    throw new WebhookError(`HTTP ${res.status}`, res.status >= 500 || res.status === 408 || res.status === 429);
  }
}

/** A redirect the assignment may follow: the same host, and never from https to http. */
function onSameHost(configured: string, next: string): boolean {
  const from = new URL(configured);
  const to = new URL(next);
  if (to.hostname !== from.hostname) return false;
  return to.protocol === from.protocol || (from.protocol === 'http:' && to.protocol === 'https:');
}
