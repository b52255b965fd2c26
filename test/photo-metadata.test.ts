import exifr from 'exifr';
import { fileTypeFromBuffer } from 'file-type';
import { describe, expect, it } from 'vitest';
import { withoutMetadata } from '../src/intake/photo-metadata.js';
import { newPage } from './browser.js';
import { AVIF_WITH_EXIF, gifWithComment, HEIC_WITH_EXIF, jpegWithExif, PNG_WITH_TEXT, webpWithExif } from './photo-fixtures.js';

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

  it('blanks the EXIF and XMP items of a HEIC, leaving them empty and every other byte as it was', async () => {
    const before = await exifr.parse(HEIC_WITH_EXIF, { gps: true, tiff: true, xmp: true });
    expect(before).toMatchObject({ Artist: 'OuyangPhoto 13912340077', GPSLatitude: [25, 9, 36] });
    expect(text(HEIC_WITH_EXIF)).toContain('Ouyang Xmp');
    const copy = Buffer.from(HEIC_WITH_EXIF);

    const heic = await withoutMetadata(HEIC_WITH_EXIF, 'image/heic');
    for (const said of ['OuyangPhoto', '13912340077', 'Ouyang Xmp', 'rdf:Description']) expect(text(heic)).not.toContain(said);
    // The EXIF item says it holds no tags; the XMP item is an empty packet.
    expect(await exifr.parse(heic, { gps: true, tiff: true, xmp: true })).toBeUndefined();
    expect(text(heic)).toContain('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>   ');
    expect((await fileTypeFromBuffer(heic))?.mime).toBe('image/heic');
    // Blanked in place: the same length, the boxes and the picture's bytes untouched, the caller's copy too.
    expect(heic.length).toBe(HEIC_WITH_EXIF.length);
    const changed = [...heic.keys()].filter((i) => heic[i] !== HEIC_WITH_EXIF[i]);
    // ExifTool wrote both items at the start of the `mdat` box, the picture after them.
    const items = text(HEIC_WITH_EXIF).indexOf('mdat') + 4;
    const picture = text(HEIC_WITH_EXIF).indexOf("<?xpacket end='w'?>") + 19;
    expect(changed.length).toBeGreaterThan(0);
    expect(Math.min(...changed)).toBeGreaterThanOrEqual(items);
    expect(Math.max(...changed)).toBeLessThan(picture);
    expect(HEIC_WITH_EXIF.equals(copy)).toBe(true);
    // Under the other names a HEIF file goes by, the same.
    expect(Buffer.from(await withoutMetadata(HEIC_WITH_EXIF, 'image/heif')).equals(heic)).toBe(true);
  });

  it('blanks the EXIF and XMP of an AVIF, which a browser still draws', async () => {
    expect(text(AVIF_WITH_EXIF)).toContain('OuyangPhoto 13912340077');
    const avif = await withoutMetadata(AVIF_WITH_EXIF, 'image/avif');
    for (const said of ['OuyangPhoto', '13912340077', 'Ouyang Xmp', 'GPS']) expect(text(avif)).not.toContain(said);
    expect((await fileTypeFromBuffer(avif))?.mime).toBe('image/avif');
    const { page, context } = await newPage();
    const [topLeft, bottomRight] = (await page.evaluate(`(async () => {
      const img = new Image();
      img.src = ${JSON.stringify(`data:image/avif;base64,${Buffer.from(avif).toString('base64')}`)};
      await img.decode();
      const g = Object.assign(document.createElement('canvas'), { width: 16, height: 16 }).getContext('2d');
      g.drawImage(img, 0, 0);
      return [Array.from(g.getImageData(2, 2, 1, 1).data.slice(0, 3)), Array.from(g.getImageData(13, 13, 1, 1).data.slice(0, 3))];
    })()`)) as [number[], number[]];
    await context.close();
    // Red at the top left, blue at the bottom right (lossy: near, not exact).
    expect(topLeft[0]).toBeGreaterThan(200);
    expect(topLeft[2]).toBeLessThan(60);
    expect(bottomRight[2]).toBeGreaterThan(200);
    expect(bottomRight[0]).toBeLessThan(60);
  });

  it('never changes the bytes it was given', async () => {
    const webp = webpWithExif('OuyangPhoto');
    const copy = Buffer.from(webp);
    await withoutMetadata(webp, 'image/webp');
    expect(webp.equals(copy)).toBe(true);
  });

  it('keeps a file whose structure is not what its type says as it came', async () => {
    const cut = jpegWithExif({ orientation: 6, artist: 'x', latitude: 1 }).subarray(0, 30);
    expect(await withoutMetadata(cut, 'image/jpeg')).toBe(cut);
    const gif = Buffer.from('GIF89a......');
    expect(await withoutMetadata(gif, 'image/gif')).toBe(gif);
    // A HEIC cut inside its `meta` box; and one without any item.
    const cutHeic = HEIC_WITH_EXIF.subarray(0, 200);
    expect(await withoutMetadata(cutHeic, 'image/heic')).toBe(cutHeic);
    const bare = Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic', 'latin1');
    expect(await withoutMetadata(bare, 'image/heic')).toBe(bare);
  });
});
