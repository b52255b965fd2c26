import exifr from 'exifr';
import { fileTypeFromBuffer } from 'file-type';
import { describe, expect, it } from 'vitest';
import { withoutMetadata } from '../src/intake/photo-metadata.js';
import { newPage } from './browser.js';
import { gifWithComment, jpegWithExif, PNG_WITH_TEXT, webpWithExif } from './photo-fixtures.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

describe('withoutMetadata: a resident photo without what its file says of who took it', () => {
  it('drops EXIF (GPS, owner, device), XMP and comments of a JPEG, keeping the picture and its orientation', async () => {
    const original = jpegWithExif({ orientation: 6, artist: 'OuyangPhoto 13912340077', latitude: 25.16 });
    const before = await exifr.parse(original, { gps: true, tiff: true, xmp: true });
    expect(before).toMatchObject({ Orientation: expect.anything(), Artist: 'OuyangPhoto 13912340077', GPSLatitudeRef: 'N', GPSLatitude: [25, 9, 36] });
    expect(text(original)).toContain('http://ns.adobe.com/xap');

    const stripped = await withoutMetadata(original, 'image/jpeg');
    for (const said of ['OuyangPhoto', '13912340077', 'http://ns.adobe.com/xap', 'a comment by the camera']) expect(text(stripped)).not.toContain(said);
    const after = await exifr.parse(stripped, { gps: true, tiff: true, xmp: true, translateValues: false });
    expect(after).toEqual({ Orientation: 6 });
    // Still a JPEG: the frame header and the scan, byte for byte.
    expect((await fileTypeFromBuffer(stripped))?.mime).toBe('image/jpeg');
    const scan = (b: Uint8Array) => text(b).slice(text(b).indexOf('\xff\xc0'));
    expect(scan(stripped)).toBe(scan(original));
    expect(text(stripped).startsWith('\xff\xd8')).toBe(true);
    expect(text(stripped)).toContain('JFIF');
  });

  it('leaves a JPEG a browser draws as the phone held it: turned by the kept orientation', async () => {
    const stripped = await withoutMetadata(jpegWithExif({ orientation: 6, artist: 'OuyangPhoto', latitude: 25.16 }), 'image/jpeg');
    const { page, context } = await newPage();
    // Drawn at the top left in red; turned a quarter clockwise (orientation 6), the red is at the top right.
    const src = `data:image/jpeg;base64,${Buffer.from(stripped).toString('base64')}`;
    const [topLeft, topRight] = (await page.evaluate(`(async () => {
      const img = new Image();
      img.src = ${JSON.stringify(src)};
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      return [g.getImageData(1, 1, 1, 1).data[0], g.getImageData(6, 1, 1, 1).data[0]];
    })()`)) as [number, number];
    await context.close();
    expect(topRight).toBeGreaterThan(150);
    expect(topLeft).toBeLessThan(100);
  });

  it('keeps an upright JPEG without any EXIF at all', async () => {
    const stripped = await withoutMetadata(jpegWithExif({ orientation: 1, artist: 'Li Ming', latitude: 25 }), 'image/jpeg');
    expect(text(stripped)).not.toContain('Exif');
    expect(text(stripped)).not.toContain('Li Ming');
  });

  it('drops the text and EXIF chunks of a PNG and the EXIF and XMP chunks of a WebP', async () => {
    expect(text(PNG_WITH_TEXT)).toContain('Author');
    const png = await withoutMetadata(PNG_WITH_TEXT, 'image/png');
    expect(text(png)).not.toContain('Author');
    expect(text(png)).not.toContain('13912340077');
    expect((await fileTypeFromBuffer(png))?.mime).toBe('image/png');
    for (const chunk of ['IHDR', 'IDAT', 'IEND']) expect(text(png)).toContain(chunk);

    const original = webpWithExif('OuyangPhoto 13912340077');
    const webp = await withoutMetadata(original, 'image/webp');
    expect(text(webp)).not.toContain('OuyangPhoto');
    expect(text(webp)).not.toContain('EXIF');
    expect((await fileTypeFromBuffer(webp))?.mime).toBe('image/webp');
    // The container's size and the extended header's flags say what is left.
    expect(new DataView(webp.buffer, webp.byteOffset).getUint32(4, true)).toBe(webp.length - 8);
    expect(webp[20]! & 0x0c).toBe(0);
  });

  it('drops the comment and XMP blocks of a GIF, which a browser still draws', async () => {
    const original = gifWithComment('taken by Li Ming 13912340077', 'OuyangPhoto');
    expect(text(original)).toContain('OuyangPhoto');
    const gif = await withoutMetadata(original, 'image/gif');
    for (const said of ['Li Ming', '13912340077', 'OuyangPhoto', 'XMP DataXMP']) expect(text(gif)).not.toContain(said);
    expect((await fileTypeFromBuffer(gif))?.mime).toBe('image/gif');
    const { page, context } = await newPage();
    const red = (await page.evaluate(`(async () => {
      const img = new Image();
      img.src = ${JSON.stringify(`data:image/gif;base64,${Buffer.from(gif).toString('base64')}`)};
      await img.decode();
      const g = Object.assign(document.createElement('canvas'), { width: 1, height: 1 }).getContext('2d');
      g.drawImage(img, 0, 0);
      return Array.from(g.getImageData(0, 0, 1, 1).data.slice(0, 3));
    })()`)) as number[];
    await context.close();
    expect(red).toEqual([255, 0, 0]);
  });

  it('keeps a file whose structure is not what its type says as it came, and HEIC or AVIF untouched', async () => {
    const cut = jpegWithExif({ orientation: 6, artist: 'x', latitude: 1 }).subarray(0, 30);
    expect(await withoutMetadata(cut, 'image/jpeg')).toBe(cut);
    const gif = Buffer.from('GIF89a......');
    expect(await withoutMetadata(gif, 'image/gif')).toBe(gif);
    const heic = Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic', 'latin1');
    expect(await withoutMetadata(heic, 'image/heic')).toBe(heic);
  });
});
