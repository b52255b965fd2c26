import { crc32 } from 'node:zlib';
import { readFileSync } from 'node:fs';

/**
 * Photos as phones and cameras save them, with what their files say of who
 * took them: drawn by Chromium (8×8 pixels, its encoders' own output, with
 * their colour profiles), with EXIF, XMP, a comment and PNG text added the
 * way cameras and editors write them.
 */

const CHROMIUM_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAIAAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAT/xAAaEAACAgMAAAAAAAAAAAAAAAAAEQQSFCJB/8QAFQEBAQAAAAAAAAAAAAAAAAAAAwb/xAAcEQACAgMBAQAAAAAAAAAAAAABAgQRAAMxIUH/2gAMAwEAAhEDEQA/AJoEPEvvey4kgAAqhRQyJmTN03c0iQ1uenwcFfKHBn//2Q==',
  'base64',
);
const CHROMIUM_WEBP = Buffer.from(
  'UklGRiwCAABXRUJQVlA4WAoAAAAgAAAABwAABwAASUNDUMgBAAAAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADZWUDggPgAAALABAJ0BKggACAABQCYlsAJ0AS1qDAAA/uvUZDvmwhN4f5v/xc5eP9Gx/9V3/P/WA/lPv//Gkf/00j5TQAAA',
  'base64',
);
const CHROMIUM_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAYAAADED76LAAAANklEQVR4AayNMQ0AQAgDCZZq4b28BDyhBU+wNl1YaHJDk6bnBTSDjGbclhwMfjxj1Hig0EvtAwAA//8GERGeAAAABklEQVQDAKp9Fql7D8eXAAAAAElFTkSuQmCC', 'base64');

/** A TIFF structure (little-endian) as EXIF holds it: IFD0 with the orientation, the artist and a GPS IFD with a latitude. */
function exifTiff(o: { orientation: number; artist: string; latitude: number }): Buffer {
  const artist = Buffer.from(`${o.artist}\0`, 'latin1');
  const artistAt = 8 + 2 + 3 * 12 + 4;
  const gpsAt = artistAt + artist.length + (artist.length % 2);
  const latitudeAt = gpsAt + 2 + 2 * 12 + 4;
  const out = Buffer.alloc(latitudeAt + 24);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  let at = 8;
  const entry = (tag: number, type: number, count: number, value: number) => {
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(count, at + 4);
    if (type === 3) out.writeUInt16LE(value, at + 8);
    else out.writeUInt32LE(value, at + 8);
    at += 12;
  };
  out.writeUInt16LE(3, at);
  at += 2;
  entry(0x0112, 3, 1, o.orientation); // Orientation, SHORT
  entry(0x013b, 2, artist.length, artistAt); // Artist, ASCII
  entry(0x8825, 4, 1, gpsAt); // GPS IFD, LONG
  out.writeUInt32LE(0, at);
  artist.copy(out, artistAt);
  at = gpsAt;
  out.writeUInt16LE(2, at);
  at += 2;
  entry(0x0001, 2, 2, 0x4e); // GPSLatitudeRef "N"
  entry(0x0002, 5, 3, latitudeAt); // GPSLatitude, 3 RATIONALs
  out.writeUInt32LE(0, at);
  const degrees = Math.floor(o.latitude);
  const minutes = Math.floor((o.latitude - degrees) * 60);
  const seconds = Math.round(((o.latitude - degrees) * 60 - minutes) * 60 * 100);
  [degrees, 1, minutes, 1, seconds, 100].forEach((n, i) => out.writeUInt32LE(n, latitudeAt + i * 4));
  return out;
}

function segment(marker: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xff00 | marker, 0);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

const XMP = Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>OuyangPhoto 13912340077</dc:creator></x:xmpmeta>', 'utf8');

/** Chromium's JPEG with an EXIF (orientation, artist, GPS), an XMP packet and a comment after its JFIF header. */
export function jpegWithExif(o: { orientation: number; artist: string; latitude: number }): Buffer {
  const app0End = 4 + CHROMIUM_JPEG.readUInt16BE(4);
  return Buffer.concat([
    CHROMIUM_JPEG.subarray(0, app0End),
    segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exifTiff(o)])),
    segment(0xe1, XMP),
    segment(0xfe, Buffer.from('a comment by the camera', 'latin1')),
    CHROMIUM_JPEG.subarray(app0End),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Chromium's PNG with the author and a note in text chunks after its header. */
export const PNG_WITH_TEXT = Buffer.concat([
  CHROMIUM_PNG.subarray(0, 33),
  pngChunk('tEXt', Buffer.from('Author\0OuyangPhoto', 'latin1')),
  pngChunk('iTXt', Buffer.from('Comment\0\0\0\0\0call 13912340077', 'utf8')),
  CHROMIUM_PNG.subarray(33),
]);

function riffChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(type, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** Chromium's WebP (extended format) with EXIF and XMP chunks, its header's flags saying so. */
export function webpWithExif(artist: string): Buffer {
  const body = Buffer.from(CHROMIUM_WEBP.subarray(12));
  body[8] = body[8]! | 0x0c;
  const chunks = Buffer.concat([
    body,
    riffChunk('EXIF', exifTiff({ orientation: 1, artist, latitude: 25.16 })),
    riffChunk('XMP ', XMP),
  ]);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(chunks.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, chunks]);
}

/**
 * A 1×1 red GIF (the classic smallest one: a two-colour table, one LZW-coded pixel) with a comment and an XMP
 * packet written as the XMP specification puts one in a GIF: the raw packet, then its 258-byte magic trailer,
 * which a reader of sub-blocks steps through to the terminator.
 */
export function gifWithComment(comment: string, creator: string): Buffer {
  const head = Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const image = Buffer.from([0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00]);
  const text = Buffer.from(comment, 'latin1');
  const commentBlock = Buffer.concat([Buffer.from([0x21, 0xfe, text.length]), text, Buffer.from([0x00])]);
  const packet = Buffer.from(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>${creator}</dc:creator></x:xmpmeta>`, 'utf8');
  const magic = Buffer.from([0x01, ...Array.from({ length: 256 }, (_, i) => 0xff - i), 0x00]);
  const xmpBlock = Buffer.concat([Buffer.from([0x21, 0xff, 0x0b]), Buffer.from('XMP DataXMP', 'latin1'), packet, magic]);
  return Buffer.concat([head, commentBlock, xmpBlock, image, Buffer.from([0x3b])]);
}

/**
 * HEIF photos (16×16, the top-left quarter red, the rest blue) with EXIF
 * (the artist, GPS, an orientation) and XMP (a creator): an AVIF that libheif's
 * heif-enc 1.15 wrote from a JPEG carrying them, and a HEIC to which ExifTool
 * 12.57 added them after heif-enc wrote it (in front of the picture in its `mdat`).
 */
export const AVIF_WITH_EXIF = readFileSync(new URL('fixtures/metadata.avif', import.meta.url));
export const HEIC_WITH_EXIF = readFileSync(new URL('fixtures/metadata.heic', import.meta.url));
