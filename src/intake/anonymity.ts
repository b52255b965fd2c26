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
 * What people write in a form's name field to say they give none (匿名, 保密, 不方便透露, 无, 热心市民, N/A, none, prefer not to say): no name. Kept
 * as one, it would be the name staff read, and the words masked wherever the text says them (匿名群众反映 read by a
 * bureau as 匿*群众反映, 村民们 as 村*们).
 */
const NO_NAME = new RegExp(
  '^(?:匿名(?:者|人|用户|群众|市民|举报人?)?|保密|请保密|不公开|不详|无|没有|略|暂无|不留|不留名|不填|无名氏?|某某|' +
    '(?:不愿|不想|不方便|不便)(?:透露|告知|留名|说)?|不告诉你?|' +
    '(?:热心|一|一位|一名)?(?:群众|市民|村民|居民)|' +
    // In English, as the words stand once punctuation and spaces are gone: N/A, none, not given, prefer not to say,
    // I'd rather not say, a concerned citizen, a local resident.
    'anonymous|anon|na|none|nil|no|noname|nobody|unknown|secret|private|confidential|withheld|' +
    'not(?:given|provided|applicable|disclosed)|(?:i(?:d|would)?)?(?:prefer|rather)?not(?:to)?(?:say|tell|disclose)|' +
    '(?:a|an)?(?:concerned|local)?(?:citizen|resident|villager))$',
  'iu',
);

/** The name given, or null when none was (left empty, or words saying none). */
function givenNameOf(name: string | null | undefined): string | null {
  const trimmed = name?.trim() ?? '';
  // Punctuation typed around the words (（匿名）, 匿名。, "保密") says no more; a field of punctuation alone (/, -, ……) says none.
  const words = trimmed.replace(/[\p{P}\p{S}\s]+/gu, '');
  return words === '' || NO_NAME.test(words) ? null : trimmed;
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
    return { text: given.text, address, name: givenNameOf(given.name), phone: given.phone ?? null, anonymous, shareContact: given.shareContact ?? false };
  }
  const name = givenNameOf(given.name) ?? undefined;
  const scrub = (words: string) => maskIdentityInText(words, [name, given.phone], { anonymous: true });
  return { text: scrub(given.text), address: address === null ? null : scrub(address), name: null, phone: null, anonymous, shareContact: false };
}
