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

  it('keeps the fields read whole of a body that stops before its end, counting the file it stopped in', async () => {
    const body = formBody(3000);
    // Cut inside the second photo, then inside the address's part.
    const inPhoto = body.subarray(0, body.indexOf('IMG_3002.jpg') + 200);
    expect(await readOversizedForm(request(inPhoto, 7), { maxFieldBytes: 1024, maxBodyBytes: 1024 * 1024 })).toEqual({
      fields: { _csrf: 'tok', text: '盐下村电镀厂晚上偷排废水\r\n沟里全是黑水' },
      files: 2,
      fileBytes: 3000 + 200 - 'IMG_3002.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.length,
    });
    const inAddress = body.subarray(0, body.indexOf('电镀厂后门桥下') + 6);
    expect(await readOversizedForm(request(inAddress, 7), { maxFieldBytes: 1024, maxBodyBytes: 1024 * 1024 })).toEqual({
      fields: { _csrf: 'tok', text: '盐下村电镀厂晚上偷排废水\r\n沟里全是黑水' },
      files: 2,
      fileBytes: 6000,
    });
  });

  it('reads parts written as clients other than browsers write them, and no form whose part headers do not read', async () => {
    const part = (headers: string, body: string) => `--${BOUNDARY}\r\n${headers}\r\n\r\n${body}\r\n`;
    const clientForm = Buffer.from(
      part('Content-Disposition: form-data; name=text', '回龙村河边有人倒废油') +
        part("Content-Disposition: form-data; name=photos; filename*=utf-8''%E6%95%B4%E6%94%B9.jpg\r\nContent-Type: image/jpeg", 'JPEG') +
        `--${BOUNDARY}--\r\n`,
    );
    expect(await readOversizedForm(request(clientForm, 5), { maxFieldBytes: 1024, maxBodyBytes: 1024 * 1024 })).toEqual({
      fields: { text: '回龙村河边有人倒废油' },
      files: 1,
      fileBytes: 4,
    });
    const nameless = Buffer.from(part('Content-Disposition: form-data; filename="a.jpg"', 'JPEG') + `--${BOUNDARY}--\r\n`);
    expect(await readOversizedForm(request(nameless, 5), { maxFieldBytes: 1024, maxBodyBytes: 1024 * 1024 })).toBeNull();
    const endlessHeader = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="text"; x="${'x'.repeat(20_000)}"\r\n\r\nhi\r\n--${BOUNDARY}--\r\n`);
    expect(await readOversizedForm(request(endlessHeader, 1000), { maxFieldBytes: 1024, maxBodyBytes: 1024 * 1024 })).toBeNull();
  });

  it('keeps no field past the bytes fields may hold, and reads no body that is no multipart form', async () => {
    const form = await readOversizedForm(request(formBody(10), 64), { maxFieldBytes: 10, maxBodyBytes: 1024 * 1024 });
    expect(form).toEqual({ fields: { _csrf: 'tok' }, files: 2, fileBytes: 20 });
    const json = new Request('http://intake.test/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await readOversizedForm(json, { maxFieldBytes: 10, maxBodyBytes: 10 })).toBeNull();
  });
});
