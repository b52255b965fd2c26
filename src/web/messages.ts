import type { AppError, ErrorCode } from '../errors.js';
import type { Lang } from './i18n.js';
import { RETURN_REASON_LABEL } from './status-words.js';

/**
 * The API explains a bad value tersely in English (`must not be empty`); a
 * page says it in the page's language, as a sentence: the Chinese here, the
 * English given here or else the API's words made a sentence (`Must not be
 * empty.`). A message without a Chinese translation here is said in Chinese
 * as 填写有误, its English words after it.
 */
const HAN = /\p{Script=Han}/u;

type Said = string | ((m: RegExpExecArray) => string);
const FIELD_MESSAGES: Array<[RegExp, Said, Said?]> = [
  [/^required$/, '必填', 'Required.'],
  [/^must not be empty$/, '不能为空'],
  [/^is a tracking code, not a report: follow its case with GET (\S+)$/, (m) => `这是查询码，不是举报内容：请用 GET ${m[1]} 查看办理进度`],
  [/^given more than once$/, '只能填写一次'],
  [/^at most (\d+) characters$/, (m) => `最多 ${m[1]} 个字`],
  [/^no spaces or control characters$/, '不能含空格或控制字符'],
  [/^must be a phone number: 5–20 digits/, '请填写电话号码（5–20 位数字，可含括号、空格、短横线和开头的 +，不能全为 0；或热线系统已隐去中间几位的号码，如 138****5678）'],
  [/^must be a phone number \(.*\), not all zeros$/, '请填写电话号码（数字，可含空格、短横线和 +，不能全为 0）', 'Give a phone number: digits, with spaces, dashes or a leading + if you like, not all zeros.'],
  [/^must be a phone number/, '请填写电话号码（数字，可含空格、短横线和 +）', 'Give a phone number: digits, with spaces, dashes or a leading + if you like.'],
  [/^must not be in the future$/, '时间不能晚于现在', 'Must not be later than now.'],
  [/^must not be before (\d{4})$/, (m) => `时间不能早于 ${m[1]} 年`],
  [/^must fall in the years (\d{4})–(\d{4})/, (m) => `请填写 ${m[1]} 至 ${m[2]} 年之间的时间`, (m) => `Give a time between the years ${m[1]} and ${m[2]}.`],
  [/^use a date YYYY-MM-DD from (\S+) to (\S+)$/, (m) => `请填写 YYYY-MM-DD 格式的日期（${m[1]} 至 ${m[2]}）`, (m) => `Use a date written YYYY-MM-DD, from ${m[1]} to ${m[2]}.`],
  [/^must be an ISO 8601 date-time/, '请填写完整的日期和时间', 'Give a full date and time.'],
  [
    /^(\S+) is written day first, which is not read .*: write the date year first, (\S+), or month first with AM\/PM as a US spreadsheet does, (.+)$/,
    (m) => `${m[1]} 是日在前的写法，不予读取（03/11/2026 可能是 11 月 3 日，也可能是 3 月 11 日）：请把日期写成年在前（${m[2]}），或按美式写法月在前并带 AM/PM（${m[3]}）`,
  ],
  [
    /^(\S+): a date with the year last is read only as a US spreadsheet writes it/,
    (m) => `${m[1]} 年份在后，月和日分不清（03/11/2026 可能是 11 月 3 日，也可能是 3 月 11 日）；年份在后的日期只按美式写法读取：月在前，时间后带 AM/PM（11/3/2026 9:15 PM）。请把日期写成年在前（2026-11-03 21:15）`,
  ],
  [/^must have a UTC offset between/, '时区不正确：UTC 偏移应在 -12:00 到 +14:00 之间'],
  [/^must be "?12345"? or "?12369"?$/, '请选择 12345 或 12369', 'Choose 12345 or 12369.'],
  [/^must be true or false$/, '请勾选或不勾选'],
  [/^must be a code of the district file|^unknown (type|bureau|jurisdiction|unit)/, '请从列表中选择', 'Choose one from the list.'],
  [
    / returned the case as outside its area: give another local office, or null for none$/,
    `该案件的属地单位已以“${RETURN_REASON_LABEL.zh.wrong_jurisdiction}”退回，请先在下方为案件指定新的属地，再派单`,
    `The case's local office returned it as “${RETURN_REASON_LABEL.en.wrong_jurisdiction}”: set another local office for it below first, then route it.`,
  ],
  [
    / returned the case as outside its area: give another local office \(to give the case back to it all the same, re-route the case naming it, with the reason\)$/,
    `该属地单位已以“${RETURN_REASON_LABEL.zh.wrong_jurisdiction}”退回本案，请另选属地；核实后仍应由它办理的，请在案件页“重新派发”中指定它并写明理由`,
    `This local office returned the case as “${RETURN_REASON_LABEL.en.wrong_jurisdiction}”: choose another. If it is to handle the case all the same, re-route the case on its page naming it, with the reason.`,
  ],
  [/ is a local office, not a bureau: it takes part as the jurisdiction, not as the lead$/, '属地单位（镇、办事处、林场）不能作牵头单位，请选择一个职能部门；属地会作为属地单位参与办理'],
  [
    / (is a local office, not a bureau|are local offices, not bureaus): .*, not as a co-handler$/,
    '属地单位（镇、办事处、林场）不能作协办单位：请在下方“属地”中指定案件的属地，它会作为属地单位参与办理',
    "A local office (town, sub-district office, forest farm) is not a co-handler: choose it as the case's local office below, and it takes part as such.",
  ],
  [/^must be a string$/, '格式不对'],
  [/^must be a whole number$/, '请填写整数'],
  [/^must be a number$/, '请填写数字'],
  [/^must be between (-?[\d.]+) and (-?[\d.]+)$/, (m) => `应在 ${m[1]} 到 ${m[2]} 之间`],
  [/^must be an object \{ lat, lng \}$/, '格式不对：应为 { lat, lng }'],
  [/^outside the district \(latitude (-?[\d.]+) to (-?[\d.]+), longitude (-?[\d.]+) to (-?[\d.]+)\)$/, (m) => `位置不在本区范围内（北纬 ${m[1]}–${m[2]}，东经 ${m[3]}–${m[4]}）`],
  [/^must be an object (\{.*\})$/, (m) => `格式不对：应为对象 ${m[1]}`],
  [/^must be an array of parts/, '格式不对：应为各部分的列表 [{ text, type?, jurisdiction?, urgent? }, …]'],
  [/^must be a JSON object/, '格式不对：应为 JSON 对象'],
  [/^must be an? (entity|user|message|chat|file) object$/, (m) => `格式不对：应为 Telegram 的 ${m[1]} 对象`],
  [/^must be a list of (photo sizes|entities)$/, '格式不对：应为列表'],
  [/^must be a file$/, '请选择文件'],
  [/^must be a photo \(a file field/, '请选择照片文件'],
  [/^must be a file \(a file field/, '请选择文件'],
  [/^must be an? .*https?:\/\/.* address$/, '请填写以 https:// 或 http:// 开头的网址'],
  [/^(?:must be|use) one of (.+)$/, (m) => `应为以下之一：${m[1]}`],
  [/^at most (\d+(?:\.\d+)? ?[KMG]?i?B)( besides the files)?$/, (m) => (m[2] ? `附件以外的内容不能超过 ${m[1]}` : `不能超过 ${m[1]}`)],
  [/^each (photo|file) at most (.+)$/, (m) => `每${m[1] === 'photo' ? '张照片' : '个文件'}不能超过 ${m[2]}`],
  [/^at most (\d+) (photo|file)s$/, (m) => `最多 ${m[1]} ${m[2] === 'photo' ? '张照片' : '个文件'}`],
  [/^at most (\d+) parts$/, (m) => `最多分为 ${m[1]} 个部分`],
  [/^at most (\d+) days after from$/, (m) => `结束日期最多在开始日期后 ${m[1]} 天`],
  [/^at most (\d+)$/, (m) => `不能超过 ${m[1]}`],
  [/^too large$/, '过大'],
  [/^incomplete$/, '不完整：请求体未传完'],
  [/^not a well-formed form$/, '表单格式不对，无法读取'],
  [/^missing or (does not match|wrong)$/, '缺少或不正确'],
  [/^required with a body$/, '有请求体时必填'],
  [/^charset must be utf-8, not (\S+)$/, (m) => `字符编码应为 UTF-8，而不是 ${m[1]}`],
  [/^charset must be utf-8, gbk, gb2312 or gb18030, not (\S+)$/, (m) => `字符编码应为 UTF-8 或 GBK（GB2312、GB18030），而不是 ${m[1]}`],
  [/^line (\d+): not GBK \/ GB 18030 text/, (m) => `第 ${m[1]} 行不是 GBK / GB18030 编码的文本，与声明的字符编码不符`],
  [
    /^not valid (UTF-8|GB 18030) in (column \d+ .*) \((?:save the whole file|bytes that are no)/,
    (m) => `表头${m[2]!.replace(/column (\d+) \("([^"]*)"\)/g, '第 $1 列（“$2”）')}含有不是 ${m[1]} 编码的字节：请把整个文件存为同一种编码（UTF-8 或 GBK / GB18030）`,
  ],
  [/^no case with this code$/, '没有这个查询码的案件'],
  [/^no such case$/, '没有这个案件'],
  [/^the case is \w+, not open: give one still open$/, '该案件已不在办理中（已办结、并案或转办），请填写仍在办理的案件', 'That case is no longer open: give one still open.'],
  [/^has no open assignment on this case$/, '该单位在本案没有可撤回的派单', 'That unit has nothing open on this case to release.'],
  [/^is the lead: re-route the case to change the lead$/, '牵头单位不能撤回，如需更换请重新派发', 'The lead cannot be released: route the case again to change it.'],
  [/^not a cursor this service gave out$/, '不是本服务给出的翻页位置，请从第一页重新读取'],
  [/^only for bureau accounts/, '仅限部门账号（查看本单位的逾期案件）'],
  [/^not a bureau or office of the district file$/, '不是本区配置中的部门或属地单位'],
  [/^already used for a different report$/, '已用于另一份举报'],
  [
    /^already used for another (signature|return|progress note|reply|extension request)$/,
    (m) => `已用于本单位在该案件上内容不同的另一次${({ signature: '签收', return: '退回', 'progress note': '进展记录', reply: '答复', 'extension request': '延期申请' } as Record<string, string>)[m[1]!]}`,
  ],
  [/^must not be after to/, '开始日期不能晚于结束日期'],
  [/^must not be after receivedTo\b/, '开始时间不能晚于结束时间'],
  [/^give both lat and lng, or neither$/, '请同时给出经度和纬度，或都不给'],
  [/^must be another case$/, '不能合并到本案件自身，请填写另一个案件的查询码或工单号。', 'A case cannot be merged into itself: give the tracking code or reference of another case.'],
  [/^a transfer type: use transfer$/, '该类型为非环境类诉求，应转12345热线：请使用“转12345热线”', 'This type is not environmental: hand the case to 12345 with “Hand to 12345”.'],
  [/^required: the case has no type yet/, '案件尚无问题类型，请选择'],
  [/^no caller lines/, '录音文本中没有来电人的话（请以“来电人：”“市民：”“群众：”“客户：”或“举报人：”开头标明），也没有可用的摘要或文字', 'The transcript has no caller lines (start them with 来电人：, 市民：, 群众：, 客户：, 举报人： or Caller:), and there is no summary or text to use instead.'],
  [/^required: application\/x-ndjson or text\/csv$/, '必填：application/x-ndjson 或 text/csv'],
  [/^required: one call a line/, '必填：NDJSON 每行一个来电，或带表头行的 CSV'],
  [/^give either text or parts, not both$/, '请只填写 text 或 parts 之一'],
  [/^with parts, give the type of each part/, '分为多个诉求时，请为每一部分选择问题类型（parts.N.type）'],
  [/^with parts, give the lead of each part/, '分为多个诉求时，请为每一部分选择牵头单位（parts.N.lead）'],
  [/^a jurisdiction and placeUnknown: give one of them$/, '属地和“地点不明”只能选其一'],
  [/^not dots alone$/, '不能只有句点'],
  [/^a spreadsheet wrote this number in scientific notation/, '表格软件把这个数字存成了科学计数法（如 2.02611E+16），后几位已经丢失：请把该列设为“文本”格式后重新导出来电'],
  [/^required in a private chat$/, '私聊中必填'],
  [/^already received with a different transcript$/, '该来电编号已用于另一份通话记录，请核对来电编号'],
  [/^already received with a different /, '该来电编号已用于另一个来电（通话记录、来电时间或来电号码不同），请核对来电编号'],
  [/^differs from the call already received under this callId$/, '与该来电编号已受理的来电不一致'],
  [/^not the case's current version \(now (\S+)\)$/, (m) => `不是案件的当前版本（当前为 ${m[1]}）`, (m) => `Not the case's current version (now ${m[1]}).`],
  [/^must be \* or entity tags this service gave out/, '应为 * 或本服务给出的 ETag（如 "v7"），多个以逗号分隔'],
  [/^unknown field$/, '不接受此字段', 'Not a field of this form.'],
  [/^unknown query parameter$/, '不接受此查询参数'],
  // The text rules (src/domain/text.ts).
  [/^must not contain NUL characters$/, '含有无法保存的空字符（NUL），请删除后再提交'],
  [/^must be well-formed Unicode/, '含有无法识别的字符，请删除后再提交'],
  [/^must be UTF-8 text/, '含有无法识别的字符（可能是复制时的乱码），请删除后再提交'],
  [/^must be GBK \/ GB 18030 text/, '含有 GBK / GB18030 无法识别的字节（可能是乱码），请删除后再提交'],
];

export function fieldMessage(lang: Lang, message: string): string {
  for (const [pattern, zh, en] of FIELD_MESSAGES) {
    const m = pattern.exec(message);
    if (!m) continue;
    const said = lang === 'zh' ? zh : en;
    if (said !== undefined) return typeof said === 'string' ? said : said(m);
    break;
  }
  // A reason already in Chinese (a page's own) is said as it is; one this table does not know yet is introduced in
  // Chinese, its own words kept for the detail.
  if (lang === 'zh') return HAN.test(message) ? message : `填写有误（${message}）`;
  return asSentence(message);
}

/** The API's terse words as a sentence: `must not be empty` → `Must not be empty.`. */
function asSentence(message: string): string {
  const capital = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * What an error page says in Chinese, by error code. English pages show the
 * error's own message when it was written for people (a sentence: `No such
 * tracking code.`); the API's terse ones (`no route for GET /x`) become the
 * sentence of PAGE_MESSAGES_EN where it has one.
 */
const PAGE_MESSAGES: Record<string, string> = {
  internal: '服务暂时出现问题，您的操作可能没有完成。请稍后刷新页面重试。',
  forbidden: '您没有权限进行此操作。',
  csrf: '表单已过期或不是从本站提交的，请刷新页面后重新填写提交。',
  payload_too_large: '提交的内容过大（照片等附件合计不能超过上限），请减少附件后返回重试。',
  malformed_body: '表单无法读取，请刷新页面后重试。',
  unsupported_media_type: '提交的内容格式或字符编码不受支持（请使用 UTF-8），请刷新页面后重试。',
  not_found: '找不到该页面或记录。',
  method_not_allowed: '此页面不能这样打开或提交。请返回上一页，或从首页重新进入。',
  rate_limited: '操作过于频繁，请稍后再试。',
  conflict: '内容刚刚被他人更新，请刷新后查看。',
  illegal_transition: '当前状态不允许此操作，请刷新后查看。',
  not_ready: '系统暂时无法处理请求，刚才的操作可能没有完成。请稍等片刻，返回上一页后重新提交。',
};

const PAGE_MESSAGES_EN: Record<string, string> = {
  internal: 'The service ran into a problem and what you did may not have been done. Please reload the page in a moment and try again.',
  csrf: 'The form has expired or did not come from this site. Please reload the page and fill it in again.',
  payload_too_large: 'What was sent is too large (the photos or files together exceed the limit). Please go back and send fewer or smaller files.',
  malformed_body: 'The form could not be read. Please reload the page and try again.',
  unsupported_media_type: 'The content or its character encoding is not supported (use UTF-8). Please reload the page and try again.',
  not_found: 'The page or record was not found.',
  method_not_allowed: 'This page cannot be opened or sent that way. Please go back, or start again from the home page.',
  not_ready: 'The service cannot handle requests at the moment, and what you did may not have been done. Please wait a moment, go back and send it again.',
};


export function pageMessage(lang: Lang, err: AppError, csrfField: string): string {
  const key = err.code === 'forbidden' && err.fields && csrfField in err.fields ? 'csrf' : err.code;
  const written = lang === 'en' ? /^[A-Z]/.test(err.message) : HAN.test(err.message);
  // A bad parameter of a link (a date of an export, a month): each named, with what it should be.
  if (!written && key === 'validation_failed' && err.fields && Object.keys(err.fields).length > 0) {
    const said = Object.entries(err.fields).map(([name, rule]) => `${name}${lang === 'zh' ? '：' : ': '}${fieldMessage(lang, rule)}`);
    return lang === 'zh' ? `请求的参数有误。${said.join('；')}` : `Something in the request is not right. ${said.join(' ')}`;
  }
  if (written) return err.message;
  if (lang === 'en') return PAGE_MESSAGES_EN[key] ?? err.message;
  return PAGE_MESSAGES[key] ?? '请求未能完成，请返回上一页检查后重试。';
}

/**
 * The API's own `message` in Chinese, by error code, for a client that asks
 * for Chinese (Accept-Language): the code stays the contract, the words are
 * for the people reading them. A refusal with a reason says it in full
 * (refusalText); fields are said by fieldMessage.
 */
export const API_MESSAGES_ZH: Record<ErrorCode, string> = {
  validation_failed: '请求有误',
  malformed_body: '请求体无法读取',
  malformed_request: '请求不是有效的 HTTP/1.1 请求',
  unauthorized: '需要有效的访问令牌',
  token_expired: '访问令牌已过期，请向管理员申请新的令牌',
  forbidden: '无权执行此操作',
  not_found: '没有找到',
  method_not_allowed: '此路径不支持该请求方法，可用的方法见 Allow 响应头',
  request_timeout: '请求未能及时完整送达，请重发',
  conflict: '案件已被他人更新，请重新读取后再试',
  idempotency_key_reused: '该 Idempotency-Key 已用于另一份内容',
  illegal_transition: '案件当前状态不允许此操作',
  precondition_failed: '案件已被更新，不再是 If-Match 所指的版本，操作未执行：请重新读取案件（取得新的 ETag）后再决定',
  payload_too_large: '请求体过大',
  unsupported_media_type: '不支持的内容类型或编码（请使用 UTF-8、不压缩）',
  rate_limited: '请求过于频繁，请按 Retry-After 稍后再试',
  headers_too_large: '请求头过大，请减少或缩短请求头（如 Cookie）',
  internal: '服务内部错误，可凭请求编号在日志中查找',
  not_ready: '服务暂时无法处理请求，请稍后重发',
};
