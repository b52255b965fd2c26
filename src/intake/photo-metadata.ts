import { orientation as exifOrientation } from 'exifr/dist/mini.esm.mjs';

/**
 * A resident's photo without what its file says about who took it and
 * where they stood: EXIF (GPS position, device, owner, times), XMP, IPTC and
 * text chunks. A photo of a noisy bar taken from one's own window would
 * otherwise give the bureau, and whoever it forwards the photo to, the
 * reporter's home. Only the picture and what draws it right are kept: for
 * JPEG the JFIF, colour-profile and Adobe segments and the orientation (a
 * minimal EXIF of that one tag, so a phone's upright photo does not show
 * sideways); for PNG and WebP every chunk but the metadata ones; for GIF
 * every block but comments and XMP; for HEIC, HEIF and AVIF every byte but
 * those of the EXIF and XMP items, which are overwritten with zeros (the
 * picture's own rotation is a property of the image there, not EXIF). A file
 * whose structure is not as its type says is kept as it came: it was accepted
 * by its content and the picture is what matters.
 */
export async function withoutMetadata(bytes: Uint8Array, mime: string): Promise<Uint8Array> {
  try {
    if (mime === 'image/jpeg') return stripJpeg(bytes, await orientationOf(bytes));
    if (mime === 'image/png') return stripPng(bytes);
    if (mime === 'image/webp') return stripWebp(bytes);
    if (mime === 'image/gif') return stripGif(bytes);
    if (mime === 'image/heic' || mime === 'image/heif' || mime === 'image/avif') return blankHeifMetadata(bytes);
  } catch {
    // Not the structure its type says (cut short, odd lengths): kept as it came.
  }
  return bytes;
}

async function orientationOf(bytes: Uint8Array): Promise<number> {
  const value = await exifOrientation(bytes).catch(() => undefined);
  return typeof value === 'number' && value >= 2 && value <= 8 ? value : 1;
}

// ---- JPEG --------------------------------------------------------------------------------------

/** APP0 (JFIF), APP2 (ICC colour profile) and APP14 (Adobe colour transform): what draws the picture. */
const KEPT_APP = new Set([0xe0, 0xe2, 0xee]);

class Malformed extends Error {}

function stripJpeg(bytes: Uint8Array, orientation: number): Uint8Array {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Malformed();
  const parts: Uint8Array[] = [bytes.subarray(0, 2)];
  if (orientation !== 1) parts.push(orientationSegment(orientation));
  let at = 2;
  while (at < bytes.length) {
    if (bytes[at] !== 0xff) throw new Malformed();
    const marker = bytes[at + 1]!;
    // Fill bytes before a marker.
    if (marker === 0xff) {
      at++;
      continue;
    }
    // Markers without a length: the start of image, restarts, the end.
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      parts.push(bytes.subarray(at, at + 2));
      at += 2;
      continue;
    }
    if (marker === 0xd9) {
      parts.push(bytes.subarray(at));
      break;
    }
    if (at + 4 > bytes.length) throw new Malformed();
    const end = at + 2 + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
    if (end > bytes.length) throw new Malformed();
    // The start of scan: the picture itself follows, and everything after it is kept.
    if (marker === 0xda) {
      parts.push(bytes.subarray(at));
      break;
    }
    const isApp = marker >= 0xe0 && marker <= 0xef;
    const isComment = marker === 0xfe;
    if (!(isApp && !KEPT_APP.has(marker)) && !isComment) parts.push(bytes.subarray(at, end));
    at = end;
  }
  return concat(parts);
}

/** An APP1 segment holding an EXIF of one tag, the orientation (0x0112), big-endian. */
function orientationSegment(orientation: number): Uint8Array {
  const tiff = [
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // "MM", 42, first IFD at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, orientation >> 8, orientation & 0xff, 0x00, 0x00, // tag, SHORT, count 1, value
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ];
  const body = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00, ...tiff]; // "Exif\0\0"
  const length = body.length + 2;
  return Uint8Array.from([0xff, 0xe1, length >> 8, length & 0xff, ...body]);
}

// ---- PNG ---------------------------------------------------------------------------------------

/** Text, EXIF and time chunks: what a PNG may say about its maker. */
const PNG_METADATA = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

function stripPng(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let at = 8;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Malformed();
    const end = at + 12 + view.getUint32(at);
    if (end > bytes.length) throw new Malformed();
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (!PNG_METADATA.has(type)) parts.push(bytes.subarray(at, end));
    at = end;
    if (type === 'IEND') break;
  }
  return concat(parts);
}

// ---- WebP --------------------------------------------------------------------------------------

function stripWebp(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (from: number) => String.fromCharCode(...bytes.subarray(from, from + 4));
  if (ascii(0) !== 'RIFF' || ascii(8) !== 'WEBP') throw new Malformed();
  const chunks: Uint8Array[] = [];
  let at = 12;
  while (at + 8 <= bytes.length) {
    const size = view.getUint32(at + 4, true);
    const end = at + 8 + size + (size % 2);
    if (end > bytes.length) throw new Malformed();
    const type = ascii(at);
    if (type !== 'EXIF' && type !== 'XMP ') {
      const chunk = new Uint8Array(bytes.subarray(at, end));
      // The extended header's flags say which chunks follow: no EXIF (bit 3) nor XMP (bit 2) any more.
      if (type === 'VP8X') chunk[8] = chunk[8]! & ~0x0c;
      chunks.push(chunk);
    }
    at = end;
  }
  const body = concat(chunks);
  const header = new Uint8Array(12);
  header.set(bytes.subarray(0, 12));
  new DataView(header.buffer).setUint32(4, body.length + 4, true);
  return concat([header, body]);
}

// ---- GIF ---------------------------------------------------------------------------------------

/** The application extension that carries XMP: its identifier and authentication code. */
const GIF_XMP = 'XMP DataXMP';

function stripGif(bytes: Uint8Array): Uint8Array {
  const ascii = (from: number, length: number) => String.fromCharCode(...bytes.subarray(from, from + length));
  if (!/^GIF8[79]a$/.test(ascii(0, 6)) || bytes.length < 13) throw new Malformed();
  const colourTable = (packed: number) => (packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0);
  /** The end of a run of sub-blocks (sizes, then a zero) starting at `at`. */
  const afterSubBlocks = (from: number) => {
    let at = from;
    for (;;) {
      if (at >= bytes.length) throw new Malformed();
      const size = bytes[at]!;
      at += 1 + size;
      if (size === 0) return at;
    }
  };
  let at = 13 + colourTable(bytes[10]!);
  const parts: Uint8Array[] = [bytes.subarray(0, at)];
  while (at < bytes.length) {
    const introducer = bytes[at]!;
    if (introducer === 0x3b) {
      parts.push(bytes.subarray(at, at + 1));
      break;
    }
    if (introducer === 0x2c) {
      const descriptorEnd = at + 10 + colourTable(bytes[at + 9] ?? 0);
      const end = afterSubBlocks(descriptorEnd + 1);
      parts.push(bytes.subarray(at, end));
      at = end;
      continue;
    }
    if (introducer !== 0x21) throw new Malformed();
    const label = bytes[at + 1];
    const end = afterSubBlocks(at + 2);
    const isComment = label === 0xfe;
    const isXmp = label === 0xff && bytes[at + 2] === 11 && ascii(at + 3, 11) === GIF_XMP;
    if (!isComment && !isXmp) parts.push(bytes.subarray(at, end));
    at = end;
  }
  return concat(parts);
}

// ---- HEIC, HEIF, AVIF ----------------------------------------------------------------------------

/**
 * A HEIF file (HEIC and AVIF are two of its brands) is a tree of boxes: its
 * `meta` box lists the items (`iinf`) and where each one's bytes lie (`iloc`),
 * in the file or in the `meta`'s own `idat`. EXIF is an item of type `Exif`,
 * XMP an item of type `mime` (application/rdf+xml); no `mime` item draws the
 * picture, so all are blanked. Blanking in place changes no length, so no
 * offset anywhere in the file has to be rewritten; EXIF and XMP are left
 * valid and empty.
 */
function blankHeifMetadata(bytes: Uint8Array): Uint8Array {
  const top = boxesIn(bytes, 0, bytes.length);
  if (top[0]?.type !== 'ftyp') throw new Malformed();
  const meta = top.find((b) => b.type === 'meta');
  if (!meta) return bytes;
  // `meta` is a full box: a version and flags before its children.
  const children = boxesIn(bytes, meta.body + 4, meta.end);
  const iinf = children.find((b) => b.type === 'iinf');
  const iloc = children.find((b) => b.type === 'iloc');
  if (!iinf || !iloc) return bytes;
  const items = metadataItems(bytes, iinf);
  if (items.size === 0) return bytes;
  const idat = children.find((b) => b.type === 'idat');
  // A copy: a Buffer's slice would share, and blank, the caller's bytes.
  const out = new Uint8Array(bytes);
  for (const [id, ranges] of itemRanges(bytes, iloc, new Set(items.keys()), idat)) {
    const { fill, empty } = BLANK[items.get(id)!];
    for (const [from, to] of ranges) out.fill(fill, from, to);
    // Left saying, in the form its readers expect, that it holds nothing.
    const [first] = ranges;
    if (empty && first && first[1] - first[0] >= empty.length) out.set(empty, first[0]);
  }
  return out;
}

type MetadataItem = 'exif' | 'xmp' | 'other';

const BLANK: Record<MetadataItem, { fill: number; empty?: Uint8Array }> = {
  // An EXIF item's payload without tags: the TIFF header right after its 4-byte offset, an IFD of no entries.
  exif: {
    fill: 0,
    empty: Uint8Array.from([
      0x00, 0x00, 0x00, 0x00, // the TIFF header follows at once
      0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // "MM", 42, first IFD at 8
      0x00, 0x00, // no entries
      0x00, 0x00, 0x00, 0x00, // no next IFD
    ]),
  },
  // An XMP packet of no properties, then spaces: XML may end in white space.
  xmp: { fill: 0x20, empty: new TextEncoder().encode('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>') },
  other: { fill: 0 },
};

interface Box {
  type: string;
  /** Where the box's contents start, after its size and type. */
  body: number;
  end: number;
}

function boxesIn(bytes: Uint8Array, from: number, to: number): Box[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxes: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = view.getUint32(at);
    let body = at + 8;
    if (size === 1) {
      if (at + 16 > to) throw new Malformed();
      size = Number(view.getBigUint64(at + 8));
      body = at + 16;
    } else if (size === 0) {
      size = to - at;
    }
    const end = at + size;
    if (end > to || end < body) throw new Malformed();
    boxes.push({ type: String.fromCharCode(...bytes.subarray(at + 4, at + 8)), body, end });
    at = end;
  }
  return boxes;
}

/** The EXIF and `mime` (XMP and others) items by id, read off the item information box's entries. */
function metadataItems(bytes: Uint8Array, iinf: Box): Map<number, MetadataItem> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[iinf.body]!;
  const entriesAt = iinf.body + 4 + (version === 0 ? 2 : 4);
  const items = new Map<number, MetadataItem>();
  for (const infe of boxesIn(bytes, entriesAt, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const infeVersion = bytes[infe.body]!;
    // Entries of versions 0 and 1 predate item types: they name no EXIF or XMP.
    if (infeVersion < 2) continue;
    const wide = infeVersion >= 3;
    const id = wide ? view.getUint32(infe.body + 4) : view.getUint16(infe.body + 4);
    const typeAt = infe.body + 4 + (wide ? 4 : 2) + 2;
    if (typeAt + 4 > infe.end) throw new Malformed();
    const itemType = String.fromCharCode(...bytes.subarray(typeAt, typeAt + 4));
    if (itemType === 'Exif') items.set(id, 'exif');
    if (itemType === 'mime') {
      // The item's name, its content type and, if any, its content encoding: strings ended by a zero.
      const [, contentType, encoding = ''] = String.fromCharCode(...bytes.subarray(typeAt + 4, infe.end)).split('\0');
      items.set(id, contentType === 'application/rdf+xml' && encoding === '' ? 'xmp' : 'other');
    }
  }
  return items;
}

/** The byte ranges of each of the given items, from the item location box. */
function itemRanges(bytes: Uint8Array, iloc: Box, ids: Set<number>, idat: Box | undefined): Map<number, Array<[number, number]>> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = iloc.body;
  const version = bytes[at]!;
  if (version > 2) throw new Malformed();
  at += 4;
  const read = (size: number): number => {
    if (at + size > iloc.end) throw new Malformed();
    const value = size === 0 ? 0 : size === 2 ? view.getUint16(at) : size === 4 ? view.getUint32(at) : size === 8 ? Number(view.getBigUint64(at)) : NaN;
    if (Number.isNaN(value)) throw new Malformed();
    at += size;
    return value;
  };
  const sizes = read(2);
  const [offsetSize, lengthSize, baseOffsetSize] = [sizes >> 12, (sizes >> 8) & 0x0f, (sizes >> 4) & 0x0f];
  const indexSize = version >= 1 ? sizes & 0x0f : 0;
  const itemCount = read(version < 2 ? 2 : 4);
  const ranges = new Map<number, Array<[number, number]>>();
  for (let i = 0; i < itemCount; i++) {
    const id = read(version < 2 ? 2 : 4);
    const method = version >= 1 ? read(2) & 0x0f : 0;
    read(2); // data reference index: 0, this file
    const base = read(baseOffsetSize);
    const extents = read(2);
    for (let e = 0; e < extents; e++) {
      read(indexSize);
      const offset = read(offsetSize);
      const length = read(lengthSize);
      // Method 2 takes the bytes of another item, itself blanked if it is metadata.
      if (!ids.has(id) || method === 2) continue;
      // A length of 0 stands for "to the end of the data": not a metadata item's shape.
      if (method > 2 || length === 0) throw new Malformed();
      const start = method === 1 ? (idat ? idat.body : NaN) + base + offset : base + offset;
      const limit = method === 1 ? (idat?.end ?? NaN) : bytes.length;
      if (!(start + length <= limit)) throw new Malformed();
      ranges.set(id, [...(ranges.get(id) ?? []), [start, start + length]]);
    }
  }
  return ranges;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
