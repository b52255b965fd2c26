import { maskMentions } from '../pipeline/extract.js';

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
 * The reporter's part of a web or API report. Anonymous keeps no name or
 * phone at all — and a name given with it is masked where the text or the
 * address repeats it (鱼塘是我钟国良承包的), since nothing kept could match
 * it later; the reporter asked not to be named.
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
  const scrub = (words: string) => (name ? maskMentions(words, [name]) : words);
  return { text: scrub(given.text), address: address === null ? null : scrub(address), name: null, phone: null, anonymous, shareContact: false };
}
