/**
 * Every word the bot says to a resident, in one place for translation.
 * Chinese by default; English when the user's Telegram language is English.
 * A case's status is named as the tracking page names it (src/web/status-words.ts).
 */

import { RATING_LABEL, RETURN_REASON_LABEL } from '../web/status-words.js';

export type Lang = 'zh' | 'en';

export function langOf(languageCode: string | undefined | null): Lang {
  return languageCode?.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

export interface SummaryParts {
  what: string;
  where: string | null;
  /** The resident said they do not know where (shown instead of 未提供). */
  placeUnknown?: boolean;
  photos: number;
  /** null: anonymous. */
  contact: string | null;
}

/** What a bureau group is told about a new assignment (no reporter identity, phones masked). */
export interface PostParts {
  unit: string;
  role: 'lead' | 'co' | 'jurisdiction';
  /** The case reference (never the tracking code: with it anyone can rate the case). */
  reference: string;
  type: string | null;
  place: string | null;
  urgent: boolean;
  signBy: string | null;
  replyBy: string | null;
  text: string;
  /** Photos shown above the post. */
  photos: number;
  /** Photos of the report the group could not be shown (kept with the case on the web). */
  photosElsewhere: number;
  reopened: boolean;
}

export type ReturnReasonCode = 'not_our_remit' | 'wrong_jurisdiction' | 'unclear_ownership';

const zhRatePrompt = (url: string) => `请用下方按钮评价办理结果（也可以在 ${url} 评价）。`;
const enRatePrompt = (url: string) => `Please rate the answer with the buttons below (or at ${url}).`;

const zhReferenceLine = (reference: string) => `工单号：${reference}`;

const zh = {
  start:
    '您好！这里是区生态环境问题举报机器人。\n' +
    '直接发文字描述问题（可附照片、位置），我会问清地点和是否匿名，确认后给您一个查询码，办理进展会在这里通知您。\n' +
    '发送 /help 查看命令。',
  help:
    '可用命令：\n' +
    '/start 介绍\n' +
    '/status 查看我举报的案件\n' +
    '/status 查询码 查看某个案件\n' +
    '/cancel 放弃正在填写的举报\n' +
    '/help 本说明\n' +
    '/link 绑定码（工作人员绑定账号）\n' +
    '举报时直接发送文字、照片或位置即可。',
  reportInProgress: '您有一份举报还没有提交，请接着回答下面的问题；想重新开始，请先发送 /cancel 放弃这份举报。',
  /** A command for residents sent in a group: reports and cases are for a private chat, where no one else reads them. */
  inGroup: (link: string) => `举报和查询案件请私聊本机器人：${link}\n群里的消息所有成员都能看到，这里不受理举报，也不显示案件进展。`,
  askText: '请用文字描述一下发生了什么（什么问题、持续多久、有什么影响）。',
  askPlace: '问题发生在哪里？请发送位置，或输入地点（乡镇/街道、村、附近标志）。',
  /** "Where is it?" again, after an answer that described the problem (晚上偷排废水) and named no place. */
  askPlaceAgain: '已补充到问题描述中。请告诉我具体地点：发送位置，或输入乡镇/街道、村、附近标志（例如：某某村三组后面的水沟）。',
  askContact: '您希望匿名举报，还是留下联系方式方便工作人员回访？联系方式只有受理人员可见。',
  askContactDetails: '请点击下方按钮分享您的电话，或直接输入姓名和手机号。',
  contactInvalid: '没有找到手机号码。请点击按钮分享电话，或输入例如：张三 13812345678',
  photoAdded: (n: number) => `已收到照片（共 ${n} 张）。`,
  tooManyPhotos: (max: number, captionKept: boolean) => `最多附 ${max} 张照片，这张没有保存${captionKept ? '；照片附带的文字已加入描述' : ''}。`,
  /** `atSummary`: the report waits for its confirmation; otherwise for the question asked above. */
  descriptionFull: (max: number, atSummary: boolean) =>
    `描述最多 ${max} 字，这条没有加进去，之前的描述已保留。` + (atSummary ? '请确认提交，或发送 /cancel 重新开始。' : '请接着回答上面的问题。'),
  locationAdded: '已收到位置。',
  locationOutside: '这个位置不在本区范围内，没有记下。请发送问题所在的位置，或直接输入地点（乡镇/街道、村、附近标志）。',
  anonymousNoted: '好的，这份举报将匿名提交。',
  /** The resident's own contact card, shared before the report asked for it: the question still pending follows. */
  contactNoted: '已收到您的联系方式（只有受理人员可见），不用再留了。',
  summary: (s: SummaryParts) =>
    '请确认您的举报：\n' +
    `问题：${s.what}\n` +
    `地点：${s.where ?? (s.placeUnknown ? '不清楚（工作人员会核实）' : '未提供')}\n` +
    `照片：${s.photos} 张\n` +
    `身份：${s.contact === null ? '匿名' : `留下联系方式（${s.contact}）`}`,
  sharedLocation: (lat: number, lng: number) => `已分享的位置（${lat.toFixed(5)}, ${lng.toFixed(5)}）`,
  anonymous: '匿名举报',
  leaveContact: '留下联系方式',
  shareContact: '分享我的电话',
  shareLocation: '发送当前位置',
  confirm: '确认提交',
  cancel: '取消',
  chosen: (label: string) => `✓ ${label}`,
  cancelled: '已取消，本次举报没有提交。需要时随时重新开始。',
  nothingToCancel: '目前没有正在填写的举报。',
  youAreWelcome: '不客气。有新的问题随时直接发给我；发送 /status 查看您举报的案件。',
  rateWithButtons: '评价办理结果，请点击答复消息下方的按钮（满意 / 基本满意 / 不满意），也可以在查询页面评价。发送 /status 查看您举报的案件。',
  staleButton: '这个按钮已经失效了。',
  /** 确认提交 pressed again on a summary whose report is already a case. */
  alreadySubmitted: (code: string) => `这份举报已经提交，查询码：${code}。发送 /status ${code} 可查看进展。`,
  /** 确认提交 pressed when the chat has sent as many reports as INTAKE_RATE_LIMIT allows. */
  tooManyReports: (n: number, window: string, until: string) =>
    `这个聊天提交的举报已达上限（每 ${window}最多 ${n} 件），这份举报还没有提交，内容已保留。请于 ${until} 之后再按“确认提交”；情况紧急请拨打 12369 环保热线或 12345 热线。`,
  correctionTaken: '已按您修改后的内容更新这份举报。',
  editOnRecord: (code: string) =>
    `举报 ${code} 已按提交时的内容受理，修改已发送的消息不会改动它。` +
    `需要补充或更正，请发送新消息作为新的举报，并在描述中写明查询码 ${code}；发送 /status ${code} 可查看进展。`,
  editNotTaken: '修改已发送的消息不会改动举报。需要补充或更正，请直接发送一条新消息。',
  accepted: (code: string, url: string) =>
    `举报已受理，查询码：${code}\n` +
    `办理进展会在这里通知您；也可以发送 /status ${code}，或打开 ${url} 查看。`,
  unusable: {
    sticker: '谢谢！不过贴纸无法作为举报内容，请用文字描述问题。',
    voice: '暂时无法处理语音消息，请用文字描述问题。',
    empty: '消息是空的，请用文字描述问题。',
    tooLong: '消息太长了（最多 4999 字），请分几条发送或精简一下。',
    document: '只能接收照片，请直接以照片形式发送。',
    photoTooLarge: (mb: number) => `照片太大了（最多 ${mb} MB），这条消息没有保存。请以普通照片形式发送（不要选“文件”）。`,
    /** Someone else's card with no report under way: no button to share one's own is shown then. */
    notOwnContact: '这是别人的联系方式，没有保存。举报时需要留联系方式的话，我会请您分享自己的；要举报，请直接用文字描述问题。',
    /** Someone else's card while the report asks for the contact, its share button below. */
    notOwnContactAsked: '这是别人的联系方式。请点按钮分享您本人的，或直接输入姓名和电话。',
    other: '这种消息暂时无法处理，请发送文字、照片或位置。',
    /** The same, to a resident in the middle of a report: the question they were asked still stands. */
    inReport: {
      sticker: '贴纸无法加入举报，请接着回答上面的问题。',
      voice: '暂时无法处理语音消息，请接着用文字回答上面的问题。',
      notOwnContact: '这是别人的联系方式，没有保存。请接着回答上面的问题。',
      other: '这种消息无法加入举报，请接着回答上面的问题。',
    },
  },
  statusNone: '您还没有通过本机器人举报过案件。',
  statusList: (lines: string[]) => `您举报的案件：\n${lines.join('\n')}\n发送 /status 查询码 查看详情。`,
  /** The latest cases only; `more` earlier ones are not listed, `url` is the tracking page's lookup box. */
  statusListPart: (lines: string[], more: number, url: string) =>
    `您最近举报的 ${lines.length} 件案件：\n${lines.join('\n')}\n另有 ${more} 件较早的举报没有列出。查看任一件，请发送 /status 查询码，或在 ${url} 输入查询码。`,
  statusLine: (code: string, status: string, date: string) => `${code} · ${status} · ${date}`,
  statusMerged: (merged: string, now: string) => `${merged}（合并办理，当前：${now}）`,
  statusOne: (code: string, status: string, lead: string | null, url: string) =>
    `案件 ${code}\n状态：${status}` + (lead ? `\n承办单位：${lead}` : '') + `\n详情：${url}`,
  statusNotFound: '没有找到这个查询码对应的案件，请检查后重试。',
  statusHeldBack: (minutes: number) => `查询了太多不存在的查询码，请 ${minutes} 分钟后再查询。`,
  group: {
    post: (p: PostParts) =>
      `【${p.reopened ? '重办派单' : '新派单'}】${p.unit} · ${{ lead: '牵头承办', co: '协办', jurisdiction: '属地协办' }[p.role]}${p.urgent ? ' · ⚠️紧急' : ''}\n` +
      `${zhReferenceLine(p.reference)}\n` +
      `类型：${p.type ?? '待确定'}\n` +
      `地点：${p.place ?? '未知'}\n` +
      `紧急程度：${p.urgent ? '紧急' : '一般'}\n` +
      `签收期限：${p.signBy ?? '—'}\n` +
      `答复期限：${p.replyBy ?? '—'}\n` +
      (p.photos > 0 ? `照片：${p.photos} 张（见上）\n` : '') +
      (p.photosElsewhere > 0 ? `另有 ${p.photosElsewhere} 张照片无法在群内显示，请在网页办理系统中查看\n` : '') +
      `内容：${p.text}`,
    /** The case's reference line of a post (also put in place of the tracking-code line of a post made by an earlier version). */
    referenceLine: zhReferenceLine,
    /** A time as a group reads it, with its time zone: 2026-12-01 09:00（北京时间）. */
    timeInZone: (time: string, zone: string) => `${time}（${zone}）`,
    /** The name of the district's time zone when it is China's. */
    beijingTime: '北京时间',
    signFor: '签收',
    return: '退回',
    back: '返回',
    chooseReason: '请选择退回原因：',
    // As the inbox and the desk word them.
    reasons: RETURN_REASON_LABEL.zh satisfies Record<ReturnReasonCode, string>,
    signed: (name: string, at: string) => `✅ 已签收：${name}，${at}`,
    returned: (reason: string, name: string, at: string) => `↩️ 已退回（${reason}）：${name}，${at}`,
    withdrawn: (at: string) => `⏹ 调度员已调整承办单位，本单位无需再办理此件（${at}）。`,
    mergedInto: (reference: string, at: string) => `⏹ 调度员已将此件并入本单位承办的 ${reference} 合并办理，请在该件中继续办理（${at}）。`,
    superseded: (at: string) => `🔄 本单位在此件中的承办角色或期限已调整，请以新派单消息为准（${at}）。`,
    signedAlert: '已签收。请在期限内办理并答复。',
    returnedAlert: '已退回，调度人员会重新分派。',
    notLinked: '只有绑定了本单位账号的工作人员才能操作。请先私聊机器人发送 /link 绑定码。',
    otherUnit: '您绑定的账号不属于这个单位，不能操作这条派单。',
    tooLate: '这条派单已经签收、退回或被调整，无法再操作。',
    waitingDispatcher: '牵头单位已退回此案件，正等待调度员重新分派；在此之前暂不能签收或退回，期限暂停计算。重新分派后本单位如仍承办，可再操作。',
    conflict: '案件刚刚被其他人处理了，请稍后查看。',
    stage: { sign: '签收', reply: '答复' } satisfies Record<'sign' | 'reply', string>,
    reminder: (code: string, stage: string, due: string) => `⏰【催办】${code}：${stage}期限 ${due} 即将到期，请尽快${stage}。`,
    overdueSupervision: (code: string, stage: string, due: string, days: number) =>
      `⚠️【督办】${code}：${stage}期限 ${due} 已过 ${days} 个工作日仍未${stage}，已列入督办，请立即办理。`,
    supervision: (code: string, note: string) => `⚠️【督办】${code}：${note || '请加快办理并按期答复。'}`,
    /** The lead told of a 督办 of other units of its case: its own part is not supervised. */
    supervisionOfOthers: (code: string, units: string, note: string) =>
      `ℹ️【督办知会】${code}：调度员已对 ${units} 督办（本单位未列入督办），请牵头协调推进。` + (note ? `督办意见：${note}` : ''),
    urgent: (code: string, signBy: string | null, replyBy: string | null, note: string) =>
      `🚨【紧急】${code} 已改为紧急件，办理期限提前：` + [signBy ? `签收 ${signBy}` : null, replyBy ? `答复 ${replyBy}` : null].filter(Boolean).join('，') + (note ? `。调度员说明：${note}` : '。'),
    deadlines: (code: string, signBy: string | null, replyBy: string | null, why: 'resumed' | 'extended') =>
      `⏱【期限调整】${code} 本单位办理期限调整为：` +
      [signBy ? `签收 ${signBy}` : null, replyBy ? `答复 ${replyBy}` : null].filter(Boolean).join('，') +
      (why === 'resumed' ? '（案件待重新分派期间不计时）。' : '（延期申请已批准）。'),
    rating: RATING_LABEL.zh as Record<string, string>,
    closedRated: (code: string, rating: string, solved: boolean) => `✅【已办结】${code}：举报人评价${rating ? `「${rating}」` : ''}（${solved ? '已解决' : '未解决'}），案件办结。`,
    closedUnrated: (code: string) => `✅【已办结】${code}：回访期满举报人未评价，案件办结。`,
    reopenedToLead: (code: string, lead: string, solved: boolean) =>
      `🔁【重办】${code}：举报人对答复不满意（${solved ? '已解决' : '未解决'}），案件已退回牵头单位${lead ? ` ${lead} ` : ''}重新办理；本单位承办部分已办结，无需重新办理。`,
    paused: (code: string, lead: string, reason: string) =>
      `⏸【暂停办理】${code}：牵头单位${lead ? ` ${lead} ` : ''}已退回此案件${reason ? `（${reason}）` : ''}，正等待调度员重新分派；在此之前各单位暂不能办理，期限暂停计算。重新分派后本单位如仍承办，将收到调整后的期限。`,
    extensionRefused: (code: string, days: number, replyBy: string | null, note: string) =>
      `⏱【延期未批准】${code} 本单位申请延长 ${days} 个工作日未获批准${replyBy ? `，答复期限仍为 ${replyBy}` : ''}。` + (note ? `调度员说明：${note}` : ''),
  },
  link: {
    usage: '请发送：/link 绑定码（绑定码由管理员发给您）。',
    /** A message that is only a code, without /link, and no report under way: not taken as a report. */
    withoutCommand: '这看起来是工作人员绑定码。绑定账号请在绑定码前加上 /link 发送，例如：/link 绑定码。如果是要举报，请用文字描述问题。',
    privateOnly: '绑定码不能在群里发送：这个绑定码已作废，请管理员重新生成，并私聊机器人发送 /link 绑定码。',
    /** /link without a code, in a group: nothing was shown, nothing voided. */
    privateOnlyNoCode: '绑定账号请私聊机器人发送 /link 绑定码；绑定码不要发在群里，群成员都能看到。',
    linked: (name: string, unit: string) => `绑定成功：${name}（${unit}）。现在可以在本单位工作群里签收、退回派单。`,
    /** A staff account without a unit (dispatcher, operator, admin): group buttons are a unit's. */
    linkedStaff: (name: string) => `绑定成功：${name}。工作群里的签收、退回按钮仅供承办单位账号使用。`,
    unknown: '绑定码不正确，请核对后重试，或请管理员重新生成。',
    used: '这个绑定码已经用过了，请管理员重新生成。',
    expired: '这个绑定码已过期，请管理员重新生成。',
    inactive: '对应的账号已停用，无法绑定。',
    unlinked: '已解除绑定。',
    notLinked: '您的 Telegram 账号没有绑定工作人员账号。',
  },
  rating: {
    ask: (code: string) => `请评价案件 ${code} 的办理结果：`,
    satisfied: '满意',
    basic: '基本满意',
    dissatisfied: '不满意',
    askSolved: (code: string, rating: string) => `案件 ${code}：您选择了「${rating}」。问题解决了吗？`,
    solved: '已解决',
    notSolved: '未解决',
    thanks: (code: string, rating: string, solved: boolean) => `感谢评价！案件 ${code}：${rating}，${solved ? '已解决' : '未解决'}。`,
    reopened: (code: string) => `已收到您的评价，案件 ${code} 将退回承办单位重新办理。`,
    already: '这个答复已经评价过了，谢谢！',
    notYours: '只有举报人本人可以评价这个案件。',
    notNow: '这个案件现在不能评价（可能已办结或评价期已过）。',
    windowClosed: (when: string) => `这个答复的评价期限已于 ${when} 截止，无法再评价。`,
    /** In place of the rating prompt once rated, when the chat shows only the start of a long reply. */
    fullReply: (url: string) => `答复全文：${url}`,
  },
  notify: {
    /** Who handles the case, when a notice does not name the unit. */
    someBureau: '承办单位',
    dispatched: (code: string, unit: string) => `您的举报 ${code} 已派给 ${unit} 办理。`,
    accepted: (code: string, unit: string) => `${unit} 已签收您的举报 ${code}，正在办理。`,
    replied: (code: string, unit: string, text: string, url: string) => `${unit} 答复了您的举报 ${code}：\n${text}\n\n${zhRatePrompt(url)}`,
    /** The last paragraph of a reply's message until it is rated. */
    ratePrompt: (url: string) => zhRatePrompt(url),
    extended: (code: string, date: string) => `您的举报 ${code} 办理期限已延长至 ${date}。`,
    merged: (code: string) => `您的举报 ${code} 与另一件反映同一问题的举报合并办理，办理进展会继续在这里告诉您，也可以用查询码 ${code} 查询。`,
    unmerged: (code: string) => `您的举报 ${code} 已撤销合并，将单独派发办理。`,
    closed: (code: string) => `您的举报 ${code} 已办结。感谢您对生态环境的关心！`,
    transferred: (code: string, unit: string) => `您的举报 ${code} 不属于环境问题，已转 ${unit} 办理。`,
    untransferred: (code: string) => `您的举报 ${code} 经核实属于环境问题，不再转办，将重新派发办理。`,
    reopened: (code: string) => `您的举报 ${code} 已重新交办，我们会继续跟进。`,
    /** Photos the bot took into the report whose download failed for good. */
    photosNotSaved: (code: string, n: number) =>
      `您的举报 ${code} 有 ${n} 张照片未能保存。需要补充照片，请发送新消息作为新的举报，附上照片并写明查询码 ${code}。`,
  },
};

export type Texts = typeof zh;

const en: Texts = {
  start:
    'Hello! This bot takes reports of environmental problems in the district.\n' +
    'Just describe the problem (photos and a location help); I will ask where it is and whether you want to stay anonymous, then give you a tracking code and tell you here how the case goes.\n' +
    'Send /help for the commands.',
  help:
    'Commands:\n' +
    '/start what this bot does\n' +
    '/status your reports\n' +
    '/status CODE one report\n' +
    '/cancel drop the report you are writing\n' +
    '/help this list\n' +
    '/link CODE (staff: link your account)\n' +
    'To report, just send text, photos or a location.',
  reportInProgress: 'You have a report that is not submitted yet: please answer the question below, or send /cancel first to drop it and start again.',
  inGroup: (link) => `To report a problem or follow a case, write to this bot in a private chat: ${link}\nEveryone in a group reads what is sent there, so no report is taken here and no case is shown.`,
  askText: 'Please describe in words what is happening (what, since when, what harm it does).',
  askPlace: 'Where is it? Send a location, or type the place (town or sub-district, village, a landmark nearby).',
  askPlaceAgain: 'Added to the description. Please tell me the exact place: send a location, or type the town or sub-district, village, or a landmark nearby.',
  askContact: 'Do you want to stay anonymous, or leave a contact so staff can call you back? Only the intake staff see it.',
  askContactDetails: 'Tap the button below to share your phone number, or type your name and mobile number.',
  contactInvalid: 'I found no phone number. Tap the button to share yours, or type e.g.: Zhang San 13812345678',
  photoAdded: (n) => `Photo received (${n} in all).`,
  tooManyPhotos: (max, captionKept) => `At most ${max} photos per report; this one was not kept${captionKept ? ', but its caption was added to the description' : ''}.`,
  descriptionFull: (max, atSummary) =>
    `A description holds at most ${max} characters; this message was not added, and what you wrote before is kept. ` +
    (atSummary ? 'Confirm the report, or send /cancel to start again.' : 'Please go on with the question above.'),
  locationAdded: 'Location received.',
  locationOutside:
    'That location is outside the district, so it was not kept. Send the location of the problem, or type the place (town or sub-district, village, a landmark nearby).',
  anonymousNoted: 'All right: this report will be anonymous.',
  contactNoted: 'Got your contact (only the intake staff see it); no need to leave it again.',
  summary: (s) =>
    'Please check your report:\n' +
    `What: ${s.what}\n` +
    `Where: ${s.where ?? (s.placeUnknown ? 'not known (staff will find out)' : 'not given')}\n` +
    `Photos: ${s.photos}\n` +
    `Identity: ${s.contact === null ? 'anonymous' : `contact left (${s.contact})`}`,
  sharedLocation: (lat, lng) => `shared location (${lat.toFixed(5)}, ${lng.toFixed(5)})`,
  anonymous: 'Stay anonymous',
  leaveContact: 'Leave a contact',
  shareContact: 'Share my phone number',
  shareLocation: 'Send my location',
  confirm: 'Submit',
  cancel: 'Cancel',
  chosen: (label) => `✓ ${label}`,
  cancelled: 'Cancelled: nothing was submitted. Start again whenever you like.',
  nothingToCancel: 'There is no report in progress.',
  youAreWelcome: 'You are welcome. Send a new problem any time; /status shows your reports.',
  rateWithButtons: "To rate a bureau's answer, tap the buttons under its message (Satisfied / Basically satisfied / Dissatisfied), or rate it on the tracking page. /status shows your reports.",
  staleButton: 'This button is no longer valid.',
  alreadySubmitted: (code) => `This report was already submitted. Tracking code: ${code}. Send /status ${code} to see how it goes.`,
  tooManyReports: (n, window, until) =>
    `Reports from this chat have reached the limit (${n} per ${window}), so this one is not submitted yet; it is kept. Press Submit again after ${until}. If it is urgent, call the 12369 environmental hotline or 12345.`,
  correctionTaken: 'Got it: the report now reads as you corrected it.',
  editOnRecord: (code) =>
    `Report ${code} was received as it was submitted; editing a message you sent does not change it. ` +
    `To add or correct something, send a new message as a new report and mention the tracking code ${code} in it; send /status ${code} to see how it goes.`,
  editNotTaken: 'Editing a message you sent does not change a report. To add or correct something, just send a new message.',
  accepted: (code, url) =>
    `Report received. Tracking code: ${code}\n` +
    `You will be told here how it goes; you can also send /status ${code} or open ${url}.`,
  unusable: {
    sticker: 'Thanks! A sticker cannot be a report, though; please describe the problem in words.',
    voice: 'Voice messages cannot be handled yet; please describe the problem in words.',
    empty: 'That message is empty; please describe the problem in words.',
    tooLong: 'That message is too long (at most 4,999 characters); please split or shorten it.',
    document: 'Only photos can be attached; please send it as a photo.',
    photoTooLarge: (mb) => `That photo is too large (at most ${mb} MB); this message was not kept. Please send it as a photo, not as a file.`,
    notOwnContact: "That is someone else's contact; it was not kept. If a report needs your contact, I will ask you to share your own; to report, just describe the problem in words.",
    notOwnContactAsked: "That is someone else's contact. Share your own with the button, or type your name and number.",
    other: 'This kind of message cannot be handled; please send text, photos or a location.',
    inReport: {
      sticker: 'A sticker cannot be added to the report; please go on with the question above.',
      voice: 'Voice messages cannot be handled yet; please answer the question above in words.',
      notOwnContact: "That is someone else's contact; it was not kept. Please go on with the question above.",
      other: 'This cannot be added to the report; please go on with the question above.',
    },
  },
  statusNone: 'You have not reported anything through this bot yet.',
  statusList: (lines) => `Your reports:\n${lines.join('\n')}\nSend /status CODE for details.`,
  statusListPart: (lines, more, url) =>
    `Your latest ${lines.length} reports:\n${lines.join('\n')}\n` +
    `${more === 1 ? '1 earlier report is' : `${more} earlier reports are`} not listed. To see any of them, send /status CODE, or enter its code at ${url}.`,
  statusLine: (code, status, date) => `${code} · ${status} · ${date}`,
  statusMerged: (merged, now) => `${merged} (handled together with another report, now: ${now.toLowerCase()})`,
  statusOne: (code, status, lead, url) => `Case ${code}\nStatus: ${status}` + (lead ? `\nHandled by: ${lead}` : '') + `\nDetails: ${url}`,
  statusNotFound: 'No case has this tracking code; please check it and try again.',
  statusHeldBack: (minutes) => `Too many tracking codes that no case has were looked up: look up again in ${minutes} min.`,
  group: {
    post: (p) =>
      `[${p.reopened ? 'Reopened' : 'New assignment'}] ${p.unit} · ${{ lead: 'lead', co: 'co-handling', jurisdiction: 'jurisdiction' }[p.role]}${p.urgent ? ' · ⚠️ urgent' : ''}\n` +
      `Case ref: ${p.reference}\n` +
      `Type: ${p.type ?? 'to be determined'}\n` +
      `Place: ${p.place ?? 'unknown'}\n` +
      `Urgency: ${p.urgent ? 'urgent' : 'normal'}\n` +
      `Sign for by: ${p.signBy ?? '—'}\n` +
      `Reply by: ${p.replyBy ?? '—'}\n` +
      (p.photos > 0 ? `Photos: ${p.photos} (above)\n` : '') +
      (p.photosElsewhere > 0 ? `${p.photosElsewhere} more photo(s) cannot be shown here: see the case on the web\n` : '') +
      `Report: ${p.text}`,
    referenceLine: (reference) => `Case ref: ${reference}`,
    timeInZone: (time, zone) => `${time} (${zone})`,
    beijingTime: 'Beijing time',
    signFor: 'Sign for',
    return: 'Return',
    back: 'Back',
    chooseReason: 'Why is it returned?',
    reasons: RETURN_REASON_LABEL.en,
    signed: (name, at) => `✅ Signed for by ${name}, ${at}`,
    returned: (reason, name, at) => `↩️ Returned (${reason}) by ${name}, ${at}`,
    withdrawn: (at) => `⏹ The dispatcher changed the bureaus: this bureau no longer handles the case (${at}).`,
    mergedInto: (reference, at) => `⏹ The dispatcher merged this case into ${reference}, which this bureau also handles: go on with it there (${at}).`,
    superseded: (at) => `🔄 This bureau's role or deadlines on the case changed: see the new post (${at}).`,
    signedAlert: 'Signed for. Please handle and reply before the deadline.',
    returnedAlert: 'Returned; a dispatcher will reassign it.',
    notLinked: 'Only staff linked to an account of this bureau can do this. Send /link CODE to the bot in a private chat first.',
    otherUnit: 'Your linked account does not belong to this bureau.',
    tooLate: 'This assignment was already signed for, returned or changed.',
    waitingDispatcher:
      'The lead returned this case; it waits for a dispatcher to route it again. Until then it cannot be signed for or returned, and its deadlines are paused.',
    conflict: 'Someone else just changed this case; please look again in a moment.',
    stage: { sign: 'sign for', reply: 'reply' },
    reminder: (code, stage, due) => `⏰ [Reminder] ${code}: the deadline to ${stage} (${due}) is near; please ${stage} soon.`,
    overdueSupervision: (code, stage, due, days) =>
      `⚠️ [Supervision] ${code}: ${days} working days past the deadline to ${stage} (${due}); the case is now supervised, please handle it at once.`,
    supervision: (code, note) => `⚠️ [Supervision] ${code}: ${note || 'please speed up handling and reply on time.'}`,
    supervisionOfOthers: (code, units, note) =>
      `ℹ️ [Supervision of others] ${code}: the dispatcher supervised ${units} (not this bureau); as the lead, please coordinate.` + (note ? ` Note: ${note}` : ''),
    urgent: (code, signBy, replyBy, note) =>
      `🚨 [Urgent] ${code} is urgent now, its deadlines earlier: ` + [signBy ? `sign for by ${signBy}` : null, replyBy ? `reply by ${replyBy}` : null].filter(Boolean).join(', ') + (note ? `. The dispatcher says: ${note}` : '.'),
    deadlines: (code, signBy, replyBy, why) =>
      `⏱ [Deadlines] ${code}: this unit's deadlines are now ` +
      [signBy ? `sign for by ${signBy}` : null, replyBy ? `reply by ${replyBy}` : null].filter(Boolean).join(', ') +
      (why === 'resumed' ? ' (the time the case waited to be routed again does not count).' : ' (the extension was approved).'),
    rating: RATING_LABEL.en as Record<string, string>,
    closedRated: (code, rating, solved) => `✅ [Closed] ${code}: the reporter rated the answer${rating ? ` "${rating}"` : ''} (${solved ? 'solved' : 'not solved'}); the case is closed.`,
    closedUnrated: (code) => `✅ [Closed] ${code}: the reporter did not rate the answer in time; the case is closed.`,
    reopenedToLead: (code, lead, solved) =>
      `🔁 [Reopened] ${code}: the reporter was dissatisfied with the answer (${solved ? 'solved' : 'not solved'}); the case went back to the lead${lead ? ` (${lead})` : ''} to be handled again. This bureau's part is done and is not asked again.`,
    paused: (code, lead, reason) =>
      `⏸ [Paused] ${code}: the lead${lead ? ` (${lead})` : ''} returned the case${reason ? ` (${reason})` : ''} and it waits for a dispatcher to route it again; until then no unit can act on it and the deadlines are stopped. If this bureau keeps its part, it will be sent its new deadlines.`,
    extensionRefused: (code, days, replyBy, note) =>
      `⏱ [Extension refused] ${code}: this unit's request for ${days} more working day(s) was refused${replyBy ? `; reply by ${replyBy} as before` : ''}.` +
      (note ? ` The dispatcher's note: ${note}` : ''),
  },
  link: {
    usage: 'Send: /link CODE (the code your administrator gave you).',
    withoutCommand: 'That looks like a staff link code. To link your account, send it after /link, as: /link CODE. To report a problem, describe it in words.',
    privateOnly: 'Codes must not be sent in a group: this one no longer works. Ask the administrator for a new one and send /link CODE to the bot in a private chat.',
    privateOnlyNoCode: 'To link your account, send /link CODE to the bot in a private chat; never send the code in a group, where every member reads it.',
    linked: (name, unit) => `Linked: ${name} (${unit}). You can now sign for and return assignments in your bureau's group.`,
    linkedStaff: (name) => `Linked: ${name}. The sign-for and return buttons in the groups are for accounts of the handling units.`,
    unknown: 'That code is not valid; check it, or ask the administrator for a new one.',
    used: 'That code was already used; ask the administrator for a new one.',
    expired: 'That code has expired; ask the administrator for a new one.',
    inactive: 'The account of that code is disabled.',
    unlinked: 'Unlinked.',
    notLinked: 'Your Telegram account is not linked to a staff account.',
  },
  rating: {
    ask: (code) => `How was case ${code} handled?`,
    satisfied: 'Satisfied',
    basic: 'Basically satisfied',
    dissatisfied: 'Dissatisfied',
    askSolved: (code, rating) => `Case ${code}: you chose "${rating}". Was the problem solved?`,
    solved: 'Solved',
    notSolved: 'Not solved',
    thanks: (code, rating, solved) => `Thank you! Case ${code}: ${rating}, ${solved ? 'solved' : 'not solved'}.`,
    reopened: (code) => `Thank you. Case ${code} goes back to the bureau to be handled again.`,
    already: 'This answer has already been rated. Thank you!',
    notYours: 'Only the person who reported this case can rate it.',
    notNow: 'This case cannot be rated now (closed, or the rating period is over).',
    windowClosed: (when) => `The time to rate this answer ended on ${when}.`,
    fullReply: (url) => `The whole answer: ${url}`,
  },
  notify: {
    someBureau: 'the responsible bureau',
    dispatched: (code, unit) => `Your report ${code} has been assigned to ${unit}.`,
    accepted: (code, unit) => `${unit} has signed for your report ${code} and is handling it.`,
    replied: (code, unit, text, url) => `${unit} answered your report ${code}:\n${text}\n\n${enRatePrompt(url)}`,
    ratePrompt: (url) => enRatePrompt(url),
    extended: (code, date) => `The deadline of your report ${code} was extended to ${date}.`,
    merged: (code) => `Your report ${code} is about the same problem as another report and is handled together with it; you will keep hearing of its progress here, and code ${code} keeps showing it.`,
    unmerged: (code) => `Your report ${code} is no longer handled together with another one: it will be assigned and handled on its own.`,
    closed: (code) => `Your report ${code} is closed. Thank you for caring about the environment!`,
    transferred: (code, unit) => `Your report ${code} is not an environmental matter and was handed over to ${unit}.`,
    untransferred: (code) => `Your report ${code} is an environmental matter after all: it is no longer handed over, and will be assigned to a bureau.`,
    reopened: (code) => `Your report ${code} was sent back to be handled again; we keep following it.`,
    photosNotSaved: (code, n) =>
      `${n === 1 ? '1 photo' : `${n} photos`} of your report ${code} could not be saved. ` +
      `To add ${n === 1 ? 'it' : 'them'}, send ${n === 1 ? 'it' : 'them'} again in a new message as a new report and mention the tracking code ${code} in it.`,
  },
};

export const TEXTS: Record<Lang, Texts> = { zh, en };
