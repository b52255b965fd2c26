import { describe, expect, it } from 'vitest';
import { fieldMessage } from '../src/web/messages.js';
import { RETURN_REASON_LABEL } from '../src/web/status-words.js';

const HAN = /\p{Script=Han}/u;

describe('field reasons said in Chinese', () => {
  // Reasons the service gives for a bad field, beyond the common ones (empty, too long, not a number): each has its own Chinese.
  const given = [
    'with parts, give the type of each part (parts.N.type)',
    'give either text or parts, not both',
    'a jurisdiction and placeUnknown: give one of them',
    'not dots alone',
    'required in a private chat',
    'must be one of satisfied, basic, dissatisfied',
    'use one of type, bureau, jurisdiction',
    'must be an object { text, type?, jurisdiction?, placeUnknown?, urgent? }',
    'must be an array of parts [{ text, type?, jurisdiction?, urgent? }, …]',
    'must be an https:// (or http://) address',
    'must be a chat object',
    'must be a list of photo sizes',
    'must be a photo (a file field of the form)',
    'must be 12345 or 12369',
    'at most 10 MB',
    'at most 1 MB besides the files',
    'each photo at most 10 MB',
    'at most 5 photos',
    'at most 10 parts',
    'at most 366 days after from',
    'at most 30',
    'too large',
    'incomplete',
    'not a well-formed form',
    'missing or does not match',
    'required with a body',
    'charset must be utf-8, not gbk',
    'charset must be utf-8, gbk, gb2312 or gb18030, not big5',
    'line 4: not GBK / GB 18030 text, as its charset says (bytes that are no such character)',
    'not valid UTF-8 in column 4 ("\ufffd\ufffd") (save the whole file in one encoding, UTF-8 or GBK / GB 18030)',
    '25/10/2026 is written day first, which is not read (a date such as 03/11/2026 could be 3 November or 11 March): write the date year first, 2026-10-25, or month first with AM/PM as a US spreadsheet does, 10/25/2026 9:15 PM',
    '03/11/2026: a date with the year last is read only as a US spreadsheet writes it, month first with AM/PM after the time (11/3/2026 9:15 PM), since 03/11/2026 could be 3 November or 11 March; write the date year first (2026-11-03 21:15)',
    'must be GBK / GB 18030 text (found bytes that are not)',
    'required: application/x-ndjson or text/csv',
    'required: one call a line (NDJSON) or a CSV with a header row',
    'no case with this code',
    'not a cursor this service gave out',
    "only for bureau accounts (a unit's own lateness)",
    'unknown unit "gone"',
    'already used for a different report',
    'already used for another signature',
    '"xinglong" is a local office, not a bureau: it takes part as the case\'s jurisdiction (give it as jurisdiction), not as a co-handler',
    '"xinglong", "huilongxu" are local offices, not bureaus: one takes part as the case\'s jurisdiction (give it as jurisdiction), not as a co-handler',
    'already used for another reply',
    'already used for another extension request',
    'must not be after to (2026-12-01)',
    'must not be after receivedTo (2026-12-01T00:00:00.000Z)',
    'outside the district (latitude 25.1 to 25.23, longitude 111.28 to 111.4)',
    'xinglong returned the case as outside its area: give another local office (to give the case back to it all the same, re-route the case naming it, with the reason)',
  ];

  it.each(given)('%s', (reason) => {
    const zh = fieldMessage('zh', reason);
    expect(zh).toMatch(HAN);
    expect(zh).not.toMatch(/^填写有误/);
  });

  it("names a local office's return as outside its area in the words of the return reason, in both languages", () => {
    const reason = 'xinglong returned the case as outside its area: give another local office, or null for none';
    expect(fieldMessage('zh', reason)).toContain(`“${RETURN_REASON_LABEL.zh.wrong_jurisdiction}”`);
    expect(fieldMessage('en', reason)).toBe(`The case's local office returned it as “${RETURN_REASON_LABEL.en.wrong_jurisdiction}”: set another local office for it below first, then route it.`);
    expect(RETURN_REASON_LABEL.zh.wrong_jurisdiction).toBe('不属于本辖区');
  });

  it('keeps the dates and the column a reason names', () => {
    expect(fieldMessage('zh', '25/10/2026 is written day first, which is not read (a date such as 03/11/2026 could be 3 November or 11 March): write the date year first, 2026-10-25, or month first with AM/PM as a US spreadsheet does, 10/25/2026 9:15 PM')).toBe(
      '25/10/2026 是日在前的写法，不予读取（03/11/2026 可能是 11 月 3 日，也可能是 3 月 11 日）：请把日期写成年在前（2026-10-25），或按美式写法月在前并带 AM/PM（10/25/2026 9:15 PM）',
    );
    expect(fieldMessage('zh', 'not valid UTF-8 in column 4 ("x\ufffd") (save the whole file in one encoding, UTF-8 or GBK / GB 18030)')).toBe(
      '表头第 4 列（“x\ufffd”）含有不是 UTF-8 编码的字节：请把整个文件存为同一种编码（UTF-8 或 GBK / GB18030）',
    );
  });

  it('keeps what a list or a size names', () => {
    expect(fieldMessage('zh', 'must be one of satisfied, basic, dissatisfied')).toBe('应为以下之一：satisfied, basic, dissatisfied');
    expect(fieldMessage('zh', 'at most 10 MB')).toBe('不能超过 10 MB');
    expect(fieldMessage('zh', 'charset must be utf-8, not gbk')).toBe('字符编码应为 UTF-8，而不是 gbk');
  });

  it('introduces a reason it has no words for in Chinese, its English kept for the detail; English is the API’s own as a sentence', () => {
    expect(fieldMessage('zh', 'must rhyme')).toBe('填写有误（must rhyme）');
    // A reason a page already says in Chinese stays as it is.
    expect(fieldMessage('zh', '不能超过 10000 个字。')).toBe('不能超过 10000 个字。');
    expect(fieldMessage('en', 'must rhyme')).toBe('Must rhyme.');
    expect(fieldMessage('en', 'must not be empty')).toBe('Must not be empty.');
  });
});
