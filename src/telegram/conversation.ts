import { findPhones, replacePhones, zerosOnly } from '../pipeline/extract.js';
import { MAX_TEXT_CHARS } from '../intake/limits.js';
import { showsNothing } from '../domain/text.js';

/**
 * A resident's report in a private chat, as a pure state machine: the bot
 * feeds it what the resident sent and renders what it answers. It asks only
 * for what is missing — the description, then the place, then contact or
 * anonymity — and shows a summary to confirm. No I/O here.
 */

export type Stage = 'idle' | 'ask_text' | 'ask_place' | 'ask_contact' | 'ask_contact_details' | 'confirm';

export interface Draft {
  /** Every description message, in order; joined on submission. */
  texts: string[];
  /** Telegram file ids of the photos (largest size of each). */
  photos: string[];
  /** The Telegram message each of `photos` came from (null: not known), so a photo replaced in it replaces the draft's. */
  photoIds: Array<number | null>;
  location: { lat: number; lng: number } | null;
  /** The place the resident typed when asked. */
  address: string | null;
  /** The place a description message already names. */
  namedPlace: string | null;
  /** The name and address of the venue the resident shared (Telegram's place search): the place of `location`. */
  venue: string | null;
  /** null until the resident chose. */
  anonymous: boolean | null;
  contact: { name: string | null; phone: string } | null;
  /**
   * The Telegram message each entry of `texts` came from (null: not known, as
   * in a draft stored before the ids were kept), so an edit of that message
   * corrects it. A stored draft without it (or with ids that do not match
   * its texts) is read back with none known: reviveSession.
   */
  textIds: Array<number | null>;
  /** The message `address` was typed in, when known. */
  addressId?: number | null;
  /**
   * The bot's last "where is it?" message, when known. A private chat numbers
   * its messages in order, the resident's and the bot's alike: a message with
   * a lower id was sent before the question (several sent in a row) and is
   * more description, not the answer.
   */
  placeAskedId?: number | null;
  /** The album (Telegram's media group) the last photo taken belonged to, when it was part of one. */
  album?: string | null;
  /** The bot's last summary message, when known: a later photo of an album sent at the summary updates it in place. */
  summaryId?: number | null;
  /** The resident answered "where is it?" that they do not know (不知道): the report goes without a place, for staff to find. */
  placeUnknown?: boolean;
}

export interface Session {
  stage: Stage;
  draft: Draft;
}

export type Choice = 'anonymous' | 'contact' | 'confirm' | 'cancel';
export const CHOICES: readonly Choice[] = ['anonymous', 'contact', 'confirm', 'cancel'];

export type Input =
  | { kind: 'text'; text: string; messageId?: number }
  | { kind: 'photo'; fileId: string; caption: string | null; messageId?: number; album?: string | null }
  /** The resident edited a message they had sent: its new text or caption, and its photo (replaced, or the same). */
  | { kind: 'edit'; messageId: number; text: string | null; fileId: string | null }
  | { kind: 'location'; lat: number; lng: number; venue?: string | null }
  | { kind: 'contact'; name: string | null; phone: string }
  | { kind: 'choice'; choice: Choice }
  | { kind: 'cancel' };

/** What the bot should say; bot.ts renders it in the resident's language with its buttons. */
export type Prompt =
  | { say: 'ask_text' }
  /** `again`: the answer described the problem more, and named no place: it was added to the description. */
  | { say: 'ask_place'; again?: boolean }
  | { say: 'ask_contact' }
  | { say: 'ask_contact_details' }
  | { say: 'contact_invalid' }
  | { say: 'summary'; draft: Draft }
  /** The summary already shown, with what a later photo of the same album added: updated in place where it can be. */
  | { say: 'summary_updated'; draft: Draft }
  | { say: 'photo_added'; count: number }
  | { say: 'too_many_photos'; max: number; captionKept: boolean }
  /** A message that did not fit the description; `atSummary`: the report waits for its confirmation, else for the question asked. */
  | { say: 'description_full'; max: number; atSummary: boolean }
  | { say: 'location_added' }
  | { say: 'location_outside' }
  | { say: 'anonymous_noted' }
  /** The resident's own contact card, shared before the report asked for it: kept, and said so with the question still pending. */
  | { say: 'contact_noted' }
  | { say: 'greeting' }
  /** Thanks or an acknowledgement with no report under way (after the tracking code). */
  | { say: 'you_are_welcome' }
  /** A rating typed with no report under way: the buttons under the bureau's answer rate it. */
  | { say: 'rate_with_buttons' }
  | { say: 'cancelled' }
  | { say: 'nothing_to_cancel' }
  | { say: 'stale_button' }
  /** An edit corrected the draft's description or typed place, or replaced a photo. */
  | { say: 'correction_taken' };

export interface Step {
  session: Session;
  prompts: Prompt[];
  /** An edit of a message the draft did not take its words from: the bot says how to add information instead. */
  editIgnored?: boolean;
  /** The resident confirmed: create the case from this draft (the session is already reset). */
  submit: Draft | null;
  /** A button press that was accepted (the bot marks it on the message). */
  chose: Choice | null;
}

export interface ConversationContext {
  /** The place a description names (a jurisdiction, village or landmark), or null. */
  placeIn(text: string): string | null;
  /** Whether a point lies within the district (its bounds in the district file). */
  inDistrict(lat: number, lng: number): boolean;
  maxPhotos: number;
}

export function emptySession(): Session {
  return {
    stage: 'idle',
    draft: {
      texts: [],
      photos: [],
      photoIds: [],
      location: null,
      address: null,
      namedPlace: null,
      venue: null,
      anonymous: null,
      contact: null,
      textIds: [],
      addressId: null,
      placeAskedId: null,
    },
  };
}

/** A session read back from storage; anything unrecognisable starts over rather than failing. */
export function reviveSession(value: unknown): Session {
  if (!value || typeof value !== 'object') return emptySession();
  const v = value as Partial<Session>;
  const stages: Stage[] = ['idle', 'ask_text', 'ask_place', 'ask_contact', 'ask_contact_details', 'confirm'];
  if (!v.stage || !stages.includes(v.stage) || !v.draft || !Array.isArray(v.draft.texts) || !Array.isArray(v.draft.photos)) {
    return emptySession();
  }
  const draft: Draft = { ...emptySession().draft, ...v.draft };
  draft.textIds = idsFitting(draft.textIds, draft.texts);
  draft.photoIds = idsFitting(draft.photoIds, draft.photos);
  if (!Number.isSafeInteger(draft.addressId)) draft.addressId = null;
  if (!Number.isSafeInteger(draft.placeAskedId)) draft.placeAskedId = null;
  // Kept only once known: a draft that never had them reads back as it was stored.
  if (draft.summaryId != null && !Number.isSafeInteger(draft.summaryId)) delete draft.summaryId;
  if (draft.album != null && typeof draft.album !== 'string') delete draft.album;
  if (draft.placeUnknown !== undefined && draft.placeUnknown !== true) delete draft.placeUnknown;
  return { stage: v.stage, draft };
}

/**
 * The stored message ids of a draft's parts; for a draft stored before they
 * were kept (or with ids that do not match its parts), no known message.
 */
function idsFitting(ids: unknown, parts: readonly unknown[]): Array<number | null> {
  const fit = Array.isArray(ids) && ids.length === parts.length && ids.every((id) => id === null || Number.isSafeInteger(id));
  return fit ? (ids as Array<number | null>) : parts.map(() => null);
}

export function inProgress(s: Session): boolean {
  const d = s.draft;
  return s.stage !== 'idle' || d.texts.length > 0 || d.photos.length > 0 || d.location !== null;
}

/** The whole description as it becomes the case text. */
export function reportText(d: Draft): string {
  return d.texts.join('\n');
}

function hasPlace(d: Draft): boolean {
  return d.location !== null || d.address !== null || d.namedPlace !== null || d.placeUnknown === true;
}

function hasIdentityChoice(d: Draft): boolean {
  return d.anonymous === true || d.contact !== null;
}

/** The next question for what is still missing, or the summary when nothing is. */
function advance(draft: Draft, before: Prompt[] = []): { session: Session; prompts: Prompt[] } {
  if (draft.texts.length === 0) return { session: { stage: 'ask_text', draft }, prompts: [...before, { say: 'ask_text' }] };
  if (!hasPlace(draft)) return { session: { stage: 'ask_place', draft }, prompts: [...before, { say: 'ask_place' }] };
  if (!hasIdentityChoice(draft)) return { session: { stage: 'ask_contact', draft }, prompts: [...before, { say: 'ask_contact' }] };
  return { session: { stage: 'confirm', draft }, prompts: [...before, { say: 'summary', draft }] };
}

/**
 * What the report in progress is waiting for, asked again when the resident
 * seems to start over (/start): their next message answers that question.
 * Empty when no report is in progress.
 */
export function pendingQuestion(session: Session): Prompt[] {
  if (!inProgress(session)) return [];
  if (session.stage === 'ask_contact_details') return [{ say: 'ask_contact_details' }];
  return advance(session.draft).prompts;
}

/** The longest text taken as the answer to "where is it?" (the case's address field holds 300). */
const MAX_PLACE_ANSWER = 60;

/** Whether the description still holds `text`: a case's text is at most MAX_TEXT_CHARS, whatever the channel. */
function roomFor(draft: Draft, text: string): boolean {
  return [...reportText({ ...draft, texts: [...draft.texts, text] })].length <= MAX_TEXT_CHARS;
}

/** The description holds no more: said with what the report still waits for (the confirmation, or the question asked). */
function descriptionFull(stage: Stage): Prompt {
  return { say: 'description_full', max: MAX_TEXT_CHARS, atSummary: stage === 'confirm' };
}

/** Only spaces and invisible characters (a zero-width space): a message or caption that says nothing, as the web form's text would. */
export function saysNothing(text: string): boolean {
  return showsNothing(text);
}

function withDescription(draft: Draft, text: string, ctx: ConversationContext, messageId: number | null = null): Draft {
  const namedPlace = draft.namedPlace ?? ctx.placeIn(text);
  return { ...draft, texts: [...draft.texts, text], textIds: [...draft.textIds, messageId], namedPlace };
}

/** The latest message the draft took a part from (a description, a caption, the typed place, a photo), when known. */
export function lastMessageOf(draft: Draft): number | null {
  const ids = messagesOf(draft);
  return ids.length > 0 ? Math.max(...ids) : null;
}

/** The draft's first message known: a message before it was no part of the report. */
export function firstMessageOf(draft: Draft): number | null {
  const ids = messagesOf(draft);
  return ids.length > 0 ? Math.min(...ids) : null;
}

function messagesOf(draft: Draft): number[] {
  return [...draft.textIds, ...draft.photoIds, draft.addressId ?? null].filter((id): id is number => id !== null);
}

/** Whether the draft holds the photo of this message (a replacement of it is checked as a new photo is). */
export function holdsPhotoOf(session: Session, messageId: number): boolean {
  return session.draft.photoIds.includes(messageId);
}

/**
 * An edit of a message the draft took words or a photo from: the description
 * part or the typed place takes the new text, a photo replaced in the message
 * takes the old one's place (the old file is no longer used), and the report
 * asks again what it still waits for (the summary again, at the
 * confirmation). Any other edit changes nothing.
 */
function corrected(session: Session, messageId: number, text: string | null, fileId: string | null, ctx: ConversationContext): Step {
  const { stage, draft } = session;
  const ignored: Step = { ...step(session, []), editIgnored: true };
  if (!inProgress(session)) return ignored;
  let next = draft;
  const photoAt = draft.photoIds.indexOf(messageId);
  if (fileId !== null && photoAt >= 0 && draft.photos[photoAt] !== fileId) {
    next = { ...next, photos: draft.photos.map((p, i) => (i === photoAt ? fileId : p)) };
  }
  const at = text === null ? -1 : draft.textIds.indexOf(messageId);
  if (text !== null && draft.address !== null && draft.addressId === messageId) {
    if ([...text].length > MAX_PLACE_ANSWER) return ignored;
    next = { ...next, address: text };
  } else if (text !== null && at >= 0) {
    const texts = draft.texts.map((t, i) => (i === at ? text : t));
    if ([...reportText({ ...draft, texts })].length > MAX_TEXT_CHARS) return step(session, [descriptionFull(stage)]);
    // The place the description names is read again: the correction may be the place's name.
    const namedPlace = texts.map((t) => ctx.placeIn(t)).find((p) => p !== null) ?? null;
    next = { ...next, texts, namedPlace };
  }
  if (next === draft) return ignored;
  const taken: Prompt = { say: 'correction_taken' };
  if (stage === 'ask_contact_details') return step({ stage, draft: next }, [taken, { say: 'ask_contact_details' }]);
  return toStep(advance(next, [taken]));
}

/** Whether a message was sent before the bot's message `askedId` (unknown either way: not before). */
function sentBefore(messageId: number | undefined, askedId: number | null | undefined): boolean {
  return typeof messageId === 'number' && typeof askedId === 'number' && messageId < askedId;
}

/** What may stand next to one's own number: a label, a self-introduction. */
const CONTACT_WORDS =
  /电话|手机|号码|联系方式|联系电话|姓名|名字|我叫|我是|本人|我姓|姓|叫我|\b(?:tel|phone|mobile|cell|number|name|my|i am|i['’]m|is|this is|(?:call|reach|contact) me(?: on| at)?)\b/giu;

/**
 * A typed contact: a phone number, and whatever else the message says as the name, without the words that label
 * it (我叫王小明，电话138… is 王小明, not 我叫王小明 电话: staff would read that as the name, and the masking of the
 * reporter's name would look for it).
 */
export function parseTypedContact(text: string): { name: string | null; phone: string } | null {
  // Zeros alone are no number, as on the report form and a hotline call: the bot asks again.
  const phone = findPhones(text).find((p) => !zerosOnly(p));
  if (!phone) return null;
  const name = replacePhones(text, () => ' ')
    .replace(CONTACT_WORDS, ' ')
    .replace(/[，,。.:：;；!！]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return { name: name.length > 0 && name.length <= 40 ? name : null, phone };
}

/** Words that name someone other than the reporter: a number given with them is that person's, not a contact. */
const SOMEONE_ELSE = /老板|厂长|经理|负责人|老板娘|村长|书记|对方|他们|他的|她的|他|她|厂|公司|单位|工地|司机|车主|店主|物业/;

/**
 * A contact typed in answer to "anonymous or leave a contact?" without
 * pressing either button (or at the summary, changing the answer): only a message that is nothing but a name and a
 * number (我叫李明 13812345678). A number given with more words about someone
 * else (老板姓陈，电话137…) is a detail of the report, not the reporter's contact.
 */
function ownContactTyped(text: string): { name: string | null; phone: string } | null {
  const contact = parseTypedContact(text);
  if (!contact || contact.name === null) return contact;
  if (SOMEONE_ELSE.test(contact.name)) return null;
  return /^(?:[\p{Script=Han}·]{1,5}|[A-Za-z][A-Za-z' -]{0,40})$/u.test(contact.name) ? contact : null;
}

/** A message that only says hello (你好, 在吗, hi): not a description of anything. */
const GREETING =
  /^(?:(?:你好|您好|你们好|hello|hi|hey|喂|哈喽|嗨|在吗|在不在|有人吗|请问|我?(?:想|要)?(?:问一下|问下|咨询一下|咨询下)|good (?:morning|afternoon|evening)|(?:is )?(?:any ?one|any ?body|someone) (?:there|here)|are you there)[\s,，!！.。?？~～]*)+$/i;

/**
 * A message that only says a report is coming (我要举报, 你好，我想反映个问题, 有个情况要反映, I want to report something):
 * the resident's words about what happened follow in the next message, which must not be taken for the place.
 */
const REPORT_INTENT = new RegExp(
  String.raw`^(?:(?:你好|您好|你们好|喂|请问|hello|hi)[\s,，!！.。?？~～]*)*` +
    String.raw`(?:(?:我|我们|本人)?(?:这边|这里)?(?:要|想|想要|需要|来|准备)?(?:实名)?(?:举报|投诉|反映|反应)(?:一下|下)?(?:一个|个|一件|件|一些|点)?(?:问题|情况|事情|事儿?|环境问题|污染问题|污染)?(?:一下)?` +
    String.raw`|(?:我|我们)?(?:这边|这里)?有(?:一个|个|一件|件)?(?:问题|情况|事情|事儿?)(?:要|想|想要|需要)?(?:举报|投诉|反映|反应)(?:一下|下)?` +
    String.raw`|(?:i(?:['’]?d| would)? (?:like|want) to |i wish to )?(?:report|complain(?: about)?|make a (?:report|complaint))(?: (?:something|pollution|(?:a|an) (?:\w+ )?(?:problem|issue|case|complaint)))?)` +
    String.raw`[\s,，!！.。?？~～]*$`,
  'iu',
);

/**
 * Typed answers that mean what a button does, as residents who do not see or use the buttons write them (the
 * buttons' own words among them): at the summary, 确认 / 提交 submits the report; anywhere, 取消 drops it (as
 * /cancel does); asked whether to stay anonymous, 留下联系方式 / 实名 asks for the contact. Never description, which
 * a bureau would read.
 */
/** What may open a typed answer without changing it: 好的，匿名 / 嗯，留电话吧 / 那就实名. */
const TYPED_OPENING = String.raw`(?:(?:好的?|嗯+|行|可以|那就|那)[\s,，。.!！]*)?`;
/** The same in English (OK, anonymous / yes, submit it), and what may close one (anonymous please, submit it, thanks). */
const EN_OPENING = String.raw`(?:(?:ok(?:ay)?|yes|yeah|yep|sure|fine|alright|then)[\s,.!]*)?`;
const EN_CLOSING = String.raw`(?:[\s,]*(?:please|pls|then|thanks?(?: you)?|thx))*[.!]*`;
/** English asking to do something: I'd like to / I want to / I'll / let me / please (I'd rather stay anonymous). */
const EN_WISH = String.raw`(?:(?:i(?:['’]?d| would)? (?:like|want|prefer|wish|choose) to|i(?:['’]?d| would) rather|i['’]?ll|i will|i can|let me|please) )?`;
const CONFIRM_TYPED = new RegExp(
  String.raw`^(?:确认|确定|提交|确认提交|确定提交|确认无误|没问题|好的?|可以|行|对|是的?)[。.!！~～]*$` +
    String.raw`|^${EN_OPENING}(?:${EN_WISH}(?:confirm|submit|send)(?: it| (?:the|my) report| now)?|yes|yeah|yep|ok(?:ay)?|sure|go ahead|correct|looks (?:good|right|fine)|all good|that['’]?s (?:right|correct|fine))${EN_CLOSING}$`,
  'iu',
);
/**
 * A message that only acknowledges or thanks (谢谢, 好的，收到, 辛苦了, thanks), as residents answer the tracking code or
 * a question: no description of a new report, nor the answer to "where is it?".
 */
const ACKNOWLEDGED =
  /^(?:(?:好的?|好滴|嗯+|哦+|行|可以|收到|知道了|明白了?|了解|(?:非常|十分|太|真是?|很)?(?:谢谢(?:你们?|您)?|感谢(?:你们?|您)?)|多谢|谢了|辛苦(?:你们?|您)?了?|麻烦(?:你们?|您)?了|ok(?:ay)?|yes|yeah|yep|sure|fine|alright|please|great|perfect|cheers|(?:many )?thanks?(?: you)?(?: (?:so|very) much| a lot| again)?|thx|ty|got it|👍|🙏)(?:啦|了|哈|呀|啊)?[\s,，!！.。~～]*)+$/iu;
const CANCEL_TYPED = /^(?:取消|取消举报|不举报了|cancel)[。.!！~～]*$/i;
const CONTACT_TYPED = new RegExp(
  String.raw`^${TYPED_OPENING}(?:我们?)?(?:还是)?(?:要|想|可以|愿意)?(?:(?:留下?|留个|留一下)(?:我的)?(?:联系方式|电话|手机号?|号码|姓名和电话|名字和电话)?|实名(?:举报)?)` +
    String.raw`(?:的|吧|啊|了|就行|就好|好了)*[。.!！~～]*$` +
    String.raw`|^${EN_OPENING}(?:${EN_WISH}(?:leave|give|share) (?:you )?(?:a |my )?(?:contact(?: details)?|details|(?:phone |mobile )?number|phone)|contact(?: me)?|(?:you can )?call me)${EN_CLOSING}$`,
  'iu',
);

/**
 * A rating typed instead of pressed (满意，谢谢 / 不满意 / satisfied) after a bureau's answer came: no new report,
 * which would ask where 满意 happened; the bot says where the rating buttons are.
 */
const RATING_TYPED =
  /^(?:(?:非常|很|十分|比较|基本|还算|不太|不是很|不)?满意(?:的|了|啦)?|(?:very |not |basically )?(?:dis)?satisfied)(?:[\s,，。.!！]*(?:谢谢(?:你们?|您)?|感谢(?:你们?|您)?|辛苦(?:你们?|您)?了?|thanks?(?: you)?))*[\s,，。.!！~～]*$/iu;

/**
 * An answer to "where is it?" that says the resident does not know (不知道, 说不清楚, 不记得具体地址了, I don't know):
 * the report goes on without a place — DOMAIN: an unknown place still reaches the lead bureau, flagged for the
 * dispatcher — rather than keeping 不知道 as its address, which bureaus would read as the place.
 */
const PLACE_UNKNOWN_TYPED = new RegExp(
  String.raw`^(?:我们?)?(?:也|真的?|实在)?(?:不知道|不清楚|不太清楚|不确定|不太确定|说不清(?:楚)?|讲不清(?:楚)?|说不上来|讲不上来|搞不清(?:楚)?|不记得了?|记不清(?:楚)?了?|忘了|不晓得)` +
    String.raw`(?:具体|确切)?(?:在哪(?:里|儿)?|是哪(?:里|儿)|地(?:点|址|方)|位置|名字)?(?:的|了|啊|呀|哦|吧|诶|欸)*[\s,，。.!！~～…]*$` +
    // I don't know, not sure where exactly, I'm not sure, no idea where it is, I can't say, I don't remember the address.
    String.raw`|^(?:i['’]?m |i am )?(?:(?:not|never) (?:sure|certain)|no idea|unknown|(?:i )?(?:don['’]?t|do not|can['’]?t|cannot) (?:know|say|tell|remember))` +
    String.raw`(?: (?:where|the (?:exact )?(?:place|address|location|name))(?: (?:it is|that is|exactly))?)?(?: exactly)?[.!]*$`,
  'iu',
);

/**
 * Words of what a violation is or does (排/倒/烧, 废水, 垃圾, 臭, 噪音; dumping, smoke, noise): an answer to "where is
 * it?" with them and no place (PLACE_WORDS, a jurisdiction or village the district file knows) describes the problem
 * more — 晚上偷排废水, 天天往河里倒垃圾, 气味很臭 after a vague 有个厂子 — and is no place a bureau could go to.
 */
const VIOLATION_WORDS =
  /[排倒扔丢烧焚熏漏渗冒堆埋吵臭]|污|废水|黑水|脏水|垃圾|废料|废渣|粉尘|灰尘|扬尘|烟|气味|味道|异味|噪音|噪声|轰鸣|施工|死鱼|泡沫|油污|刺鼻|呛|\b(?:dump(?:s|ed|ing)?|discharg(?:e|es|ed|ing)|pour(?:s|ed|ing)?|burn(?:s|ed|t|ing)?|smoke|smoky|fumes?|smell(?:s|y|ing)?|stinks?|stinking|odou?rs?|noise|noisy|loud|waste(?:water)?|sewage|rubbish|garbage|trash|dust|leak(?:s|ed|ing)?|pollut\w*|oil|black water|dead fish)\b/iu;

/**
 * Words that make an answer a place however it goes on: a settlement, road, building or landmark (盐下村三组后面的水沟,
 * 河边, 厂门口, 垃圾站, 污水处理厂), a house number (…号), or in English a street, a village, a landmark next to something.
 */
const PLACE_WORDS =
  /[村镇乡组路街巷弄楼栋县]|号|社区|小区|园区|工业园|开发区|桥|河边|江边|湖边|塘边|沟边|渠边|河堤|河岸|岸边|门口|大门|旁边|边上|附近|对面|后面|前面|隔壁|背后|广场|公园|学校|医院|市场|码头|站|场|处理厂|店|馆|仓库|工地|山|\b(?:street|st|road|rd|lane|avenue|ave|village|town(?:ship)?|community|estate|district|bridge|riverside|river ?bank|gate|near|behind|next to|opposite|beside|across from|at the|in front of|park|school|market|plant|station|site|yard|landfill|warehouse|shop|restaurant|no\.?)\b/iu;

/**
 * Words of when and how long (已经一个多月了, 每天晚上都这样, it has been going on for a week, every night since last
 * month): an answer to "where is it?" with them and no place says more of the problem too. Words of two characters and
 * more only, so that a village named with 周 or 年 is still a place.
 */
const TIME_WORDS =
  /天天|每天|每晚|每周|晚上|夜里|半夜|凌晨|白天|早上|傍晚|一直|经常|总是|老是|已经|持续|最近|这几天|好几天|个月|多月|几年|多年|半年|星期|礼拜|昨天|今天|前天|去年|今年|都这样|\b(?:every (?:day|night|morning|evening|afternoon|week)|(?:at|last|all|each) night|since|going on|for (?:a|an|one|two|three|several|many|a few|\d+) (?:days?|weeks?|months?|years?|hours?)|(?:days?|weeks?|months?|years?) (?:ago|now)|daily|weekly|yesterday|today|tonight|this (?:morning|evening|week)|always|often)\b/iu;

/** A short answer to "where is it?" that says more of the problem — what happens, or when — and names no place. */
function describesWithoutPlace(text: string, ctx: ConversationContext): boolean {
  return (VIOLATION_WORDS.test(text) || TIME_WORDS.test(text)) && !PLACE_WORDS.test(text) && ctx.placeIn(text) === null;
}

/** A short message that names a place and says nothing of what happens there or when. */
function namesOnlyPlace(text: string, ctx: ConversationContext): boolean {
  return [...text].length <= MAX_PLACE_ANSWER && !VIOLATION_WORDS.test(text) && !TIME_WORDS.test(text) && ctx.placeIn(text) !== null;
}

/** A typed answer that means "anonymous", as the button does. */
const ANONYMOUS_TYPED = new RegExp(
  String.raw`^${TYPED_OPENING}(?:我们?)?(?:还是)?(?:要|想|就)?(?:匿名(?:举报|反映)?|不(?:用|想|要|需要|必|愿意?)?留(?:名字?|姓名|联系方式|电话|手机号?)?|保密)` +
    String.raw`(?:的|吧|了|就行|就好|就可以|即可|好了)*[。.!！~～]*$` +
    String.raw`|^${EN_OPENING}(?:${EN_WISH}(?:(?:stay|remain|be|keep it|report|go) )?anonymous(?:ly)?|anon|(?:no|without) (?:contact|name|number|phone)(?: details)?` +
    String.raw`|(?:i )?(?:don['’]?t|do not|won['’]?t|will not|would rather not|rather not) (?:want to )?(?:leave|give|share) (?:my |a |any )?(?:contact(?: details)?|details|name|(?:phone )?number|phone))${EN_CLOSING}$`,
  'iu',
);

const step = (session: Session, prompts: Prompt[], extra: Partial<Pick<Step, 'submit' | 'chose'>> = {}): Step => ({
  session,
  prompts,
  submit: extra.submit ?? null,
  chose: extra.chose ?? null,
});

export function converse(session: Session, input: Input, ctx: ConversationContext): Step {
  const { stage, draft } = session;
  switch (input.kind) {
    case 'cancel':
      return inProgress(session) ? step(emptySession(), [{ say: 'cancelled' }]) : step(session, [{ say: 'nothing_to_cancel' }]);

    case 'text': {
      const text = input.text.trim();
      // 取消 typed is /cancel; 确认 typed at the summary its button; 留下联系方式 typed when asked, its button.
      if (CANCEL_TYPED.test(text)) return converse(session, { kind: 'cancel' }, ctx);
      if (stage === 'confirm' && CONFIRM_TYPED.test(text)) return converse(session, { kind: 'choice', choice: 'confirm' }, ctx);
      if ((stage === 'ask_contact' || stage === 'confirm') && CONTACT_TYPED.test(text)) return converse(session, { kind: 'choice', choice: 'contact' }, ctx);
      // 谢谢 after the tracking code is answered, not taken as a new report; 好的 to a question leaves it asked.
      if (!inProgress(session) && CONFIRM_TYPED.test(text) && !ACKNOWLEDGED.test(text)) return step(session, [{ say: 'nothing_to_cancel' }]);
      if (ACKNOWLEDGED.test(text)) return step(session, inProgress(session) ? pendingQuestion(session) : [{ say: 'you_are_welcome' }]);
      if (!inProgress(session) && RATING_TYPED.test(text)) return step(session, [{ say: 'rate_with_buttons' }]);
      // An answer to "where is it?" is short, and sent after the question; a long message, or one sent before the
      // question came (the resident writing on), is more description (which may name the place).
      if (stage === 'ask_place' && [...text].length <= MAX_PLACE_ANSWER && !ANONYMOUS_TYPED.test(text) && !sentBefore(input.messageId, draft.placeAskedId)) {
        if (PLACE_UNKNOWN_TYPED.test(text)) return toStep(advance({ ...draft, placeUnknown: true }));
        // 晚上偷排废水 to "where is it?" is what happens, not where: it joins the description and the place is asked again.
        if (describesWithoutPlace(text, ctx)) {
          if (!roomFor(draft, text)) return step(session, [descriptionFull(stage)]);
          return step({ stage, draft: withDescription(draft, text, ctx, input.messageId ?? null) }, [{ say: 'ask_place', again: true }]);
        }
        return toStep(advance({ ...draft, address: text, addressId: input.messageId ?? null }));
      }
      // 匿名 is never a description nor a place: before the question (我要匿名举报 as the first message) or after
      // it (a change of mind at the summary), it is the choice the button makes.
      if (ANONYMOUS_TYPED.test(text)) {
        const asked = stage === 'ask_contact' || stage === 'ask_contact_details';
        return toStep(advance({ ...draft, anonymous: true, contact: null }, asked ? [] : [{ say: 'anonymous_noted' }]));
      }
      if (stage === 'ask_contact_details') {
        const contact = parseTypedContact(text);
        if (!contact) return step(session, [{ say: 'contact_invalid' }]);
        return toStep(advance({ ...draft, contact, anonymous: false }));
      }
      if ((stage === 'ask_contact' || stage === 'confirm') && text.length <= 60) {
        // Typing one's name and number instead of pressing a button is an answer too; at the summary, a change of
        // mind (as 匿名 is), never more description: a bureau would read the name in it.
        const contact = ownContactTyped(text);
        if (contact) return toStep(advance({ ...draft, contact, anonymous: false }));
      }
      // A hello before any description is answered, not taken as the report: the introduction, or again the question.
      if (draft.texts.length === 0 && GREETING.test(text)) return step(session, [{ say: stage === 'idle' ? 'greeting' : 'ask_text' }]);
      // 我要举报 before any description says nothing of what happened: the bot asks for that, so the description that
      // follows is the report's words, not taken for the answer to "where is it?".
      if (draft.texts.length === 0 && REPORT_INTENT.test(text)) return step(session, [{ say: 'ask_text' }]);
      // A message naming only a place (回龙村三组后面, near Huilong village) before any description says where, not what
      // happened: it is the place, and the bot asks what happened, so the report is not the place's name alone.
      if (draft.texts.length === 0 && !hasPlace(draft) && namesOnlyPlace(text, ctx)) {
        return toStep(advance({ ...draft, address: text, addressId: input.messageId ?? null }));
      }
      if (!roomFor(draft, text)) return step(session, [descriptionFull(stage)]);
      return toStep(advance(withDescription(draft, text, ctx, input.messageId ?? null)));
    }

    case 'edit':
      return corrected(session, input.messageId, input.text?.trim() ?? null, input.fileId, ctx);

    case 'photo': {
      const full = draft.photos.length >= ctx.maxPhotos;
      // A caption that says nothing is no description: the report still asks for one.
      const caption = input.caption && !saysNothing(input.caption) ? input.caption.trim() : null;
      // A photo over the limit is not kept, but its caption is the resident's words: it still joins the description.
      const album = input.album ?? null;
      // A later photo of an album whose earlier photo was taken at the summary: that summary is updated, not sent again.
      const sameAlbum = stage === 'confirm' && album !== null && draft.album === album;
      const kept: Draft = { ...draft, album };
      const next: Draft = full ? kept : { ...kept, photos: [...draft.photos, input.fileId], photoIds: [...draft.photoIds, input.messageId ?? null] };
      const fits = caption !== null && roomFor(next, caption);
      const ack: Prompt = full ? { say: 'too_many_photos', max: ctx.maxPhotos, captionKept: fits } : { say: 'photo_added', count: next.photos.length };
      if (caption && !fits) return step({ stage, draft: next }, [ack, descriptionFull(stage)]);
      if (caption) return toStep(advance(withDescription(next, caption, ctx, input.messageId ?? null), [ack]));
      if (full) return step({ stage, draft: next }, [ack]);
      // An album arrives as one update per photo: acknowledge without asking the same question again. At the summary
      // its photo count changed: the summary comes again, as it does for a text added there, with its buttons — once
      // for the album, whose later photos update it.
      if (sameAlbum) return step({ stage, draft: next }, [ack, { say: 'summary_updated', draft: next }]);
      if (stage === 'idle' || stage === 'confirm') return toStep(advance(next, [ack]));
      return step({ stage, draft: next }, [ack]);
    }

    case 'location': {
      // A point outside the district (where the resident is, not where it happens; a slip of the map) is no place the
      // district's bureaus can go to: not kept, and the question pending still stands.
      if (!ctx.inDistrict(input.lat, input.lng)) return step(session, [{ say: 'location_outside' }, ...pendingQuestion(session)]);
      // A plain location after a venue is another point: the venue's name no longer describes it.
      const next: Draft = { ...draft, location: { lat: input.lat, lng: input.lng }, venue: input.venue ?? null };
      return toStep(advance(next, [{ say: 'location_added' }]));
    }

    case 'contact': {
      const next: Draft = { ...draft, contact: { name: input.name, phone: input.phone }, anonymous: false };
      // Shared before the report asked for it (at the start, or asked for the place): kept and said so, with the question
      // still pending; the report does not ask for a contact again. Asked for, or at the summary, the next message shows it.
      const asked = stage === 'ask_contact' || stage === 'ask_contact_details' || stage === 'confirm';
      return toStep(advance(next, asked ? [] : [{ say: 'contact_noted' }]));
    }

    case 'choice': {
      const chosen = (s: { session: Session; prompts: Prompt[] }, extra: Partial<Pick<Step, 'submit'>> = {}) =>
        step(s.session, s.prompts, { ...extra, chose: input.choice });
      switch (input.choice) {
        case 'cancel':
          return inProgress(session) ? chosen({ session: emptySession(), prompts: [{ say: 'cancelled' }] }) : step(session, [{ say: 'stale_button' }]);
        // The question's buttons still answer it at the summary: the resident changes their mind, as typing 匿名 does.
        case 'anonymous':
          if (stage !== 'ask_contact' && stage !== 'ask_contact_details' && stage !== 'confirm') break;
          return chosen(advance({ ...draft, anonymous: true, contact: null }));
        case 'contact':
          if (stage !== 'ask_contact' && stage !== 'confirm') break;
          return chosen({ session: { stage: 'ask_contact_details', draft }, prompts: [{ say: 'ask_contact_details' }] });
        case 'confirm':
          if (stage !== 'confirm') break;
          return chosen({ session: emptySession(), prompts: [] }, { submit: draft });
      }
      return step(session, [{ say: 'stale_button' }]);
    }
  }
}

function toStep(s: { session: Session; prompts: Prompt[] }): Step {
  return step(s.session, s.prompts);
}
