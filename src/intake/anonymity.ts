import { maskIdentityInText } from '../pipeline/extract.js';

/** What a web form or API client sent about the reporter, with the words it may repeat them in. */
export interface GivenReporter {
  text: string;
  address?: string | null | undefined;
  name?: string | null | undefined;
  phone?: string | null | undefined;
  anonymous?: boolean | null | undefined;
  shareContact?: boolean | null | undefined;
}

/**
 * The reporter's part of a web, API or Telegram report. Anonymous keeps no
 * name or phone at all: not in the contact fields, and not in the words
 * either — the text and the address are kept as bureaus would read them
 * (phone, ID card and account numbers masked, a name the reporter gives
 * for themself, 我叫…, and the name and phone sent with the report, 鱼塘是我钟国良承包的,
 * 学校电话0731-88886666, wherever they repeat it), since nothing kept could match them later; the
 * reporter asked not to be named, and dispatchers read no more than bureaus.
 */
export function reporterFields(given: GivenReporter): {
  text: string;
  address: string | null;
  name: string | null;
  phone: string | null;
  anonymous: boolean;
  shareContact: boolean;
} {
  const anonymous = given.anonymous ?? false;
  const address = given.address ?? null;
  if (!anonymous) {
    return { text: given.text, address, name: given.name ?? null, phone: given.phone ?? null, anonymous, shareContact: given.shareContact ?? false };
  }
  const name = given.name?.trim();
  const scrub = (words: string) => maskIdentityInText(words, [name, given.phone]);
  return { text: scrub(given.text), address: address === null ? null : scrub(address), name: null, phone: null, anonymous, shareContact: false };
}
