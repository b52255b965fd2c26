import { randomFromPool } from './ids.js';
import { compactCode } from './text.js';

/**
 * Tracking codes: 10 characters from an alphabet without look-alikes
 * (no 0/O, 1/I/L, 2/Z, 5/S, 8/B), random rather than sequential: 25^10 ≈ 9.5e13
 * codes, so guessing one is hopeless, and reading one aloud on the phone is easy.
 */
export const TRACKING_ALPHABET = '34679ACDEFGHJKMNPQRTUVWXY';
export const TRACKING_CODE_LENGTH = 10;

// The largest multiple of the alphabet size below 256: bytes at or above it
// are skipped so that every character is equally likely.
const LIMIT = 256 - (256 % TRACKING_ALPHABET.length);

export function newTrackingCode(): string {
  let code = '';
  while (code.length < TRACKING_CODE_LENGTH) {
    for (const byte of randomFromPool(16)) {
      if (byte < LIMIT) code += TRACKING_ALPHABET[byte % TRACKING_ALPHABET.length];
      if (code.length === TRACKING_CODE_LENGTH) break;
    }
  }
  return code;
}

/**
 * Accepts what people type: lower case, spaces and dashes between groups, and
 * the full-width letters, digits, spaces and dashes a Chinese input method
 * gives (ＫＭ７３…, －, —): NFKC makes them ASCII, and any dash punctuation
 * between groups is dropped like a hyphen.
 */
export function normalizeTrackingCode(input: string): string | null {
  const code = compactCode(input).toUpperCase();
  if (code.length !== TRACKING_CODE_LENGTH) return null;
  for (const ch of code) if (!TRACKING_ALPHABET.includes(ch)) return null;
  return code;
}

/**
 * A tracking link as written in a message (in NFKC), and the path segment after /track/: the address only, without
 * the words written against it on either side (那个厂又在排了https://…/track/K7M3QXT9AD, …/track/K7M3QXT9AD怎么样了) —
 * a host after its scheme is anything up to the path (a Chinese domain name too), one without a scheme letters,
 * digits, dots and dashes (and a port); the path holds no Chinese — with its query, fragment or closing slash. The
 * segment may hold the punctuation a copy takes along (K7M3QXT9AD。) or an escape (%4B…): `codeOfLink` reads it.
 */
const TRACK_LINK =
  /(?:https?:\/\/[^\s/]+|[A-Za-z0-9.-]+(?::\d+)?)?(?:\/[^\s/\p{Script=Han}]*?)*?\/track\/([^/?#\s\p{Script=Han}]+)(?:[/?#][^\s\p{Script=Han}]*)?/giu;

/** The tracking code a link's segment after /track/ names, read as the lookup box reads it; null when it names none. */
function codeOfLink(segment: string): string | null {
  return normalizeTrackingCode(withoutEnclosing(decodedOrAsIs(segment)));
}

/**
 * The tracking code in what someone pasted into a lookup box: the code as
 * `normalizeTrackingCode` reads it, or the code of a pasted tracking link
 * (`https://…/track/K7M3QXT9AD`) or of a copied message line (`查询码：K7M3Q-XT9AD`),
 * each also with the punctuation a copy takes along around it: quotes,
 * brackets, a full stop (“K7M3QXT9AD”。, 【K7M3QXT9AD】).
 */
export function trackingCodeIn(input: string): string | null {
  const direct = normalizeTrackingCode(input);
  if (direct) return direct;
  const text = input.normalize('NFKC').trim();
  const link = new RegExp(TRACK_LINK.source, 'u').exec(text);
  if (link) return codeOfLink(link[1]!);
  const labelled = /^(?:查询码|跟踪码|tracking code)\s*[:：]?\s*(.+)$/iu.exec(text);
  return normalizeTrackingCode(withoutEnclosing(labelled ? labelled[1]! : text));
}

/**
 * The tracking code a message is nothing but: the code (any case, spaced or
 * dashed), the tracking link, or the 查询码 line of the bot's answer — alone,
 * or with only words asking after its report (查询 K7M3QXT9AD, K7M3QXT9AD 进度,
 * 我的举报K7M3QXT9AD怎么样了). A code or link among other words is a message
 * about something, not a lookup. A
 * resident asking after a report this way (in the chat, or in the report
 * form's box) is told how their report goes, not given a new one about nothing.
 */
export function onlyTrackingCode(text: string): string | null {
  const plain = text.normalize('NFKC').trim();
  return normalizeTrackingCode(plain) ?? codeAskedAfter(plain);
}

/**
 * The words of someone asking after a report, and nothing else (查询, 进度, 怎么样了, 处理了吗, 结果, 状态, 我的举报,
 * what's the status of my report): tried longest first. Latin words only as words of their own.
 */
const ASKING_WORDS = [
  '请问', '请帮我', '请帮忙', '请', '帮我', '帮忙', '麻烦', '你好', '您好', '谢谢', '查询码', '跟踪码', '查询', '查一查', '查一下', '查下', '查查', '查看', '查',
  '看一下', '看看', '了解一下', '了解', '问一下', '问问', '问下', '办理', '处理', '办', '进度', '进展', '情况', '结果', '状态', '回复', '反馈', '答复', '回音',
  '消息', '动静', '怎么样了', '怎么样', '怎样了', '怎样', '咋样了', '咋样', '如何了', '如何', '到哪了', '到哪一步了', '到哪步了', '到哪里了', '哪一步',
  '什么时候', '什么', '多久', '完了', '完', '好了', '好', '了', '吗', '嘛', '么', '呢', '啊', '呀', '吧', '没有', '没', '有', '还', '的', '得', '我们', '我',
  '之前', '上次', '以前', '前几天', '前天', '昨天', '举报', '投诉', '反映', '事情', '事', '这个', '那个', '这件', '那件', '这', '那', '件', '个', '条',
  '工单', '单号', '编号', '号码', '号', '码', '现在', '目前', '已经', '一下', '是', '给', '过', '在',
];
const ASKING_LATIN = [
  'status', 'progress', 'check', 'checking', 'query', 'track', 'tracking', 'code', 'update', 'updates', 'news', 'result', 'results', 'reply', 'answer',
  'report', 'complaint', 'case', 'my', 'the', 'of', 'on', 'for', 'about', 'any', 'what', "what's", 'whats', 'is', 'how', 'please', 'pls', 'hi', 'hello',
  'thanks', 'thank', 'you', 'can', 'i', 'see', 'with', 'it', 'going',
  // is K7M3QXT9AD done?, has my report been handled yet?, any news on …, where is … now?
  'done', 'finished', 'handled', 'processed', 'solved', 'resolved', 'fixed', 'dealt', 'yet', 'has', 'have', 'been', 'was', 'are', 'there', 'where',
  'now', 'happening', 'happened', 'anything', 'already',
];
const ASKING = new RegExp(
  `${[...ASKING_WORDS].sort((a, b) => b.length - a.length).join('|')}|(?<![A-Za-z'])(?:${[...ASKING_LATIN].sort((a, b) => b.length - a.length).join('|')})(?![A-Za-z'])`,
  'giu',
);

/**
 * The one tracking code in words that only ask after its report (查询 K7M3QXT9AD, K7M3QXT9AD 进度,
 * 我的举报K7M3QXT9AD怎么样了, status of K7M3QXT9AD?); null when any word says something else (a code among words
 * describing a problem is a report naming an earlier one).
 */
function codeAskedAfter(plain: string): string | null {
  const code = trackingCodeInText(plain);
  if (!code) return null;
  // The code as written: any case, spaces or dashes between its characters; a tracking link to it (查询 https://…/track/K7M3QXT9AD) is the code.
  const written = new RegExp([...code].join('[\\s\\p{Pd}\u2212]*'), 'giu');
  const unlinked = plain.includes('/track/') ? plain.replace(TRACK_LINK, (link: string, segment: string) => (codeOfLink(segment) === code ? ' ' : link)) : plain;
  const rest = unlinked.replace(written, ' ').replace(ASKING, ' ');
  return /^[\p{P}\p{S}\p{Cf}\s]*$/u.test(rest) ? code : null;
}

/**
 * Without the punctuation, symbols and invisible marks (a zero-width space a chat app put after a link) before and
 * after (a code has none); a % stays, the rest of an escape in a link cut short, which is no code.
 */
function withoutEnclosing(text: string): string {
  return text.replace(/^(?:(?!%)[\p{P}\p{S}\p{Cf}\s])+|(?:(?!%)[\p{P}\p{S}\p{Cf}\s])+$/gu, '');
}

/** A link's path segment decoded; a broken escape (`%E0%A4%A`, a link cut short) is read as it stands, not an error. */
function decodedOrAsIs(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The tracking code in a message pasted whole into a lookup box: what
 * `trackingCodeIn` reads, or else the one code the words hold — the bot's
 * 这份举报已经提交，查询码：K7M3QXT9AD。发送 /status K7M3QXT9AD…, the success
 * page's 您的查询码 K7M3QXT9AD 请记下…, 我的查询码是 k7m3q-xt9ad — as a run of
 * letters and digits, or two or three runs with spaces or dashes between them.
 * Null when the words hold no code, or more than one (which did they mean?).
 */
export function trackingCodeInText(input: string): string | null {
  const whole = trackingCodeIn(input);
  if (whole) return whole;
  const text = input.normalize('NFKC');
  const runs = [...text.matchAll(/[A-Za-z0-9]+/g)];
  const found = new Set<string>();
  for (let i = 0; i < runs.length; i++) {
    let joined = '';
    for (let j = i; j < Math.min(i + 3, runs.length); j++) {
      const run = runs[j]!;
      // Only spaces and dashes may sit between the parts of one code.
      if (j > i) {
        const prev = runs[j - 1]!;
        if (!/^[\s\p{Pd}\u2212]+$/u.test(text.slice(prev.index + prev[0].length, run.index))) break;
      }
      joined += run[0];
      const code = normalizeTrackingCode(joined);
      if (code) found.add(code);
    }
  }
  return found.size === 1 ? [...found][0]! : null;
}
