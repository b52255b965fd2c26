import { describe, expect, it } from 'vitest';
import { readOversizedForm } from '../handlers/uploads.js';

const BOUNDARY = '----WebKitFormBoundaryX3hZ9q';

/** A form as a browser writes it: text before and after the files, a file whose bytes hold line breaks and dashes, an empty file input. */
function formBody(photoBytes: number): Buffer {
  const photo = Buffer.alloc(photoBytes, 0x41);
  // Bytes that begin like a delimiter without being one.
  Buffer.from(`\r\n--${BOUNDARY.slice(0, -1)}`).copy(photo, 100);
  const part = (headers: string, body: Buffer | string) => [Buffer.from(`--${BOUNDARY}\r\n${headers}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')];
  return Buffer.concat([
    ...part('Content-Disposition: form-data; name="_csrf"', 'tok'),
    ...part('Content-Disposition: form-data; name="text"', '盐下村电镀厂晚上偷排废水\r\n沟里全是黑水'),
    ...part('Content-Disposition: form-data; name="photos"; filename="IMG_3001.jpg"\r\nContent-Type: image/jpeg', photo),
    ...part('Content-Disposition: form-data; name="photos"; filename="IMG_3002.jpg"\r\nContent-Type: image/jpeg', photo),
    ...part('Content-Disposition: form-data; name="photos"; filename=""\r\nContent-Type: application/octet-stream', ''),
    ...part('Content-Disposition: form-data; name="address"', '电镀厂后门桥下'),
    ...part('Content-Disposition: form-data; name="anonymous"', 'on'),
    Buffer.from(`--${BOUNDARY}--\r\n`),
  ]);
}

function request(body: Buffer, chunk: number): Request {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= body.length) return controller.close();
      controller.enqueue(new Uint8Array(body.subarray(at, at + chunk)));
      at += chunk;
    },
  });
  return new Request('http://intake.test/', {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: stream,
    duplex: 'half',
  } as RequestInit);
}

describe('readOversizedForm', () => {
  it('keeps the text fields and counts the files of a form, however its bytes arrive', async () => {
    const body = formBody(3000);
    for (const chunk of [1, 2, 7, 41, 1000, body.length]) {
      const form = await readOversizedForm(request(body, chunk), { maxFieldBytes: 1024 * 1024, maxBodyBytes: 1024 * 1024 });
      expect(form, `chunks of ${chunk}`).toEqual({
        fields: { _csrf: 'tok', text: '盐下村电镀厂晚上偷排废水\r\n沟里全是黑水', address: '电镀厂后门桥下', anonymous: 'on' },
        files: 2,
        fileBytes: 6000,
      });
    }
  });

  it('stops after the bytes it may read, keeping the fields before them', async () => {
    const form = await readOversizedForm(request(formBody(50_000), 1000), { maxFieldBytes: 1024, maxBodyBytes: 10_000 });
    expect(form?.fields).toEqual({ _csrf: 'tok', text: '盐下村电镀厂晚上偷排废水\r\n沟里全是黑水' });
    expect(form?.files).toBe(1);
  });

  it('keeps no field past the bytes fields may hold, and reads no body that is no multipart form', async () => {
    const form = await readOversizedForm(request(formBody(10), 64), { maxFieldBytes: 10, maxBodyBytes: 1024 * 1024 });
    expect(form).toEqual({ fields: { _csrf: 'tok' }, files: 2, fileBytes: 20 });
    const json = new Request('http://intake.test/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await readOversizedForm(json, { maxFieldBytes: 10, maxBodyBytes: 10 })).toBeNull();
  });
});
