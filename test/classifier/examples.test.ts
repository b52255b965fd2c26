import { describe, expect, it } from 'vitest';
import { ExampleError, parseExamplesJsonl } from '../../src/classifier/engine/index.js';

const GOOD = ['{"text":"工地晚上施工噪音很大","label":"noise"}', '', '{"text":"河里有污水","label":"sewage","id":7}'].join('\n');

function errorOf(fn: () => unknown): ExampleError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ExampleError) return err;
    throw err;
  }
  throw new Error('expected an ExampleError');
}

describe('parseExamplesJsonl', () => {
  it('reads one example per line and skips blank lines', () => {
    expect(parseExamplesJsonl(GOOD)).toEqual([
      { text: '工地晚上施工噪音很大', label: 'noise' },
      { text: '河里有污水', label: 'sewage' },
    ]);
  });

  it('reads other field names when told', () => {
    const content = '{"body":"烧秸秆","type":"smoke"}\r\n{"body":"垃圾乱倒","type":"garbage"}\r\n';
    expect(parseExamplesJsonl(content, { textField: 'body', labelField: 'type' })).toEqual([
      { text: '烧秸秆', label: 'smoke' },
      { text: '垃圾乱倒', label: 'garbage' },
    ]);
  });

  it.each([
    ['invalid JSON', '{"text":"噪音","label":"noise"}\n{"text": "噪音", label}', 2, /examples line 2: not valid JSON/],
    ['a JSON value that is not an object', '["噪音","noise"]', 1, /line 1: expected a JSON object/],
    ['a missing text', '{"text":"噪音","label":"noise"}\n\n{"label":"noise"}', 3, /line 3: missing "text"/],
    ['an empty text', '{"text":"  ","label":"noise"}', 1, /line 1: empty "text"/],
    ['a text that is not a string', '{"text":42,"label":"noise"}', 1, /line 1: "text" must be a string/],
    ['a missing label', '{"text":"噪音"}', 1, /line 1: missing "label"/],
    ['an empty label', '{"text":"噪音","label":""}', 1, /line 1: "label" must be a non-empty string/],
  ])('stops at %s, naming the line', (_what, content, line, message) => {
    const err = errorOf(() => parseExamplesJsonl(content));
    expect(err.message).toMatch(message);
    expect(err.line).toBe(line);
  });

  it('rejects a label outside the allowed set, naming the file and line', () => {
    const err = errorOf(() =>
      parseExamplesJsonl(GOOD, { allowedLabels: ['noise', 'smoke'], source: 'examples.default.jsonl' }),
    );
    expect(err.message).toBe('examples.default.jsonl line 3: label "sewage" is not one of: noise, smoke');
    expect(err.line).toBe(3);
  });
});
