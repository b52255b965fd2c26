import { typeName, type District } from '../district/district.schema.js';

/**
 * Words the service writes for a person's action, where the person typed
 * none: the reason of a desk's one-click route or hand-over to 12345, of a
 * place given on the desk's list, the note of a 督办 from its overdue list,
 * the note of a return pressed in a unit's Telegram group. Kept on the case's
 * events and the units' notices as a code with what it names, not as text:
 * each reader reads them in their own language (the staff pages', a unit's
 * group's), however the person who acted read the page. Text a person typed
 * is kept as typed (a string), and so are the words of events written before
 * these codes.
 */
export type ServiceWords =
  /** Routed by the desk's one-click button to the type the classifier suggested. */
  | { said: 'routed_as_suggested'; type: string }
  /** Handed to 12345 by the desk's one-click button, the suggested type being one that goes there. */
  | { said: 'transferred_as_suggested'; type: string }
  /** A local office given to a case from the desk's list of cases whose place is unknown. */
  | { said: 'place_given' }
  /** A 督办 from the desk's list of overdue cases. */
  | { said: 'overdue_supervision' }
  /** A return pressed in the unit's Telegram group, by the clerk (`by`: their account's name). */
  | { said: 'returned_in_group'; by: string }
  /**
   * The reason or note a desk's form suggests, sent as it stood: 重复举报 (merge), 非环境类诉求 (hand to 12345),
   * 属环境问题 (undo that), 请尽快办理并答复。 (督办).
   */
  | { said: 'duplicate' | 'not_environmental' | 'environmental_after_all' | 'handle_without_delay' };

/** The words the desk's forms suggest, in both languages (SUGGESTED). */
export type SuggestedWords = 'duplicate' | 'not_environmental' | 'environmental_after_all' | 'handle_without_delay';

const SUGGESTED: Record<SuggestedWords, Record<'zh' | 'en', string>> = {
  duplicate: { zh: '重复举报', en: 'duplicate' },
  not_environmental: { zh: '非环境类诉求', en: 'not environmental' },
  environmental_after_all: { zh: '属环境问题', en: 'an environmental matter' },
  handle_without_delay: { zh: '请尽快办理并答复。', en: 'Handle and reply without delay.' },
};

/** What a desk's form suggests for its reason or note, in the page's language. */
export function suggestedText(words: SuggestedWords, lang: 'zh' | 'en'): string {
  return SUGGESTED[words][lang];
}

/**
 * A reason or note typed into a desk's form: the form's suggestion sent as it stood (in either language) is the
 * service's words, read in each reader's language; anything else is the dispatcher's own, kept as typed.
 */
export function typedOrSuggested(typed: string, words: SuggestedWords): Said {
  const t = typed.trim();
  return t === SUGGESTED[words].zh || t === SUGGESTED[words].en ? { said: words } : t;
}

/** A reason or note: what a person typed, or the service's words for what they did. */
export type Said = string | ServiceWords;

const CODES: ReadonlySet<string> = new Set(['routed_as_suggested', 'transferred_as_suggested', 'place_given', 'overdue_supervision', 'returned_in_group', ...Object.keys(SUGGESTED)]);

export function isServiceWords(v: unknown): v is ServiceWords {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && CODES.has(String((v as { said?: unknown }).said));
}

/** The service's words in one language. */
export function serviceWordsText(words: ServiceWords, lang: 'zh' | 'en', district: District): string {
  const zh = lang === 'zh';
  switch (words.said) {
    case 'routed_as_suggested':
      return zh ? `按分类建议派发（${typeName(district, words.type, 'zh')}）` : `Routed to the suggested type (${typeName(district, words.type, 'en')})`;
    case 'transferred_as_suggested':
      return zh
        ? `按分类建议（${typeName(district, words.type, 'zh')}）转12345热线`
        : `Handed to the 12345 hotline as the classifier suggested (${typeName(district, words.type, 'en')})`;
    case 'place_given':
      return zh ? '调度员补充属地' : 'Place given by a dispatcher';
    case 'overdue_supervision':
      return zh ? '案件已超期，请尽快办理并答复。' : 'This case is overdue: handle and reply without delay.';
    case 'returned_in_group':
      return zh ? `${words.by} 通过 Telegram 工作群退回` : `Returned by ${words.by} in the Telegram group`;
    case 'duplicate':
    case 'not_environmental':
    case 'environmental_after_all':
    case 'handle_without_delay':
      return SUGGESTED[words.said][lang];
    default: {
      const unknown: never = words;
      return unknown;
    }
  }
}

/**
 * A reason or note kept on an event or a notice as a reader reads it: a
 * person's text as written, the service's words in `lang`; null for anything
 * else (no reason, or a code of another kind, which its own labels say).
 */
export function saidText(v: unknown, lang: 'zh' | 'en', district: District): string | null {
  if (typeof v === 'string') return v;
  return isServiceWords(v) ? serviceWordsText(v, lang, district) : null;
}

/** A reason or note as one string, for comparing two or hashing one. */
export function saidKey(v: Said): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * An event's data as it leaves the service through the API: the service's words, wherever they stand in it, said in
 * `lang` as a string, as a person's reason or note is one — the API's contract names strings there, never codes of
 * ours; all else as it is.
 */
export function saidAsText(v: unknown, lang: 'zh' | 'en', district: District): unknown {
  if (isServiceWords(v)) return serviceWordsText(v, lang, district);
  if (Array.isArray(v)) return v.map((x) => saidAsText(x, lang, district));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, saidAsText(x, lang, district)]));
  return v;
}
