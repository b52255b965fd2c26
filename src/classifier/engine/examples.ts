/**
 * Labelled examples and their JSONL file format: one JSON object per line
 * with a text field and a label field (names configurable). Blank lines are
 * skipped; anything else that is wrong stops the load with the line number.
 */
import { digest } from './hashing.js';

export interface LabelledExample {
  text: string;
  label: string;
}

/** A broken example: `line` is 1-based in the file, or the index + 1 in an array. */
export class ExampleError extends Error {
  override readonly name = 'ExampleError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export interface ParseExamplesOptions {
  /** Labels an example may carry; anything else is an error. */
  allowedLabels?: readonly string[];
  /** Field holding the text (default "text"). */
  textField?: string;
  /** Field holding the label (default "label"). */
  labelField?: string;
  /** Name of the file, for messages (default "examples"). */
  source?: string;
}

export function parseExamplesJsonl(content: string, options: ParseExamplesOptions = {}): LabelledExample[] {
  const textField = options.textField ?? 'text';
  const labelField = options.labelField ?? 'label';
  const source = options.source ?? 'examples';
  const allowed = options.allowedLabels ? new Set(options.allowedLabels) : null;
  const examples: LabelledExample[] = [];
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    const fail = (problem: string): never => {
      throw new ExampleError(`${source} line ${line}: ${problem}`, line);
    };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      // Where, not the parser's quote of the line: a labelled text can hold a resident's name or number.
      const at = err instanceof Error ? /at position (\d+)/.exec(err.message)?.[1] : undefined;
      fail(at === undefined ? 'not valid JSON' : `not valid JSON (at character ${Number(at) + 1})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a JSON object');
    const record = value as Record<string, unknown>;
    const text = record[textField];
    const label = record[labelField];
    if (text === undefined) fail(`missing "${textField}"`);
    if (typeof text !== 'string') fail(`"${textField}" must be a string`);
    if ((text as string).trim() === '') fail(`empty "${textField}"`);
    if (label === undefined) fail(`missing "${labelField}"`);
    if (typeof label !== 'string' || label.trim() === '') fail(`"${labelField}" must be a non-empty string`);
    if (allowed && !allowed.has(label as string)) {
      fail(`label ${JSON.stringify(label)} is not one of: ${[...allowed].join(', ')}`);
    }
    examples.push({ text: text as string, label: label as string });
  }
  return examples;
}

/**
 * Unlabelled texts, one JSON object with a text field a line (the messages
 * that hold no complaint): blank lines are skipped, anything else that is
 * wrong stops the load with the line number, as in the labelled format.
 */
export function parseTextsJsonl(content: string, options: Pick<ParseExamplesOptions, 'textField' | 'source'> = {}): string[] {
  const textField = options.textField ?? 'text';
  const source = options.source ?? 'texts';
  const texts: string[] = [];
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const fail = (problem: string): never => {
      throw new ExampleError(`${source} line ${i + 1}: ${problem}`, i + 1);
    };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      fail('not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a JSON object');
    const text = (value as Record<string, unknown>)[textField];
    if (typeof text !== 'string' || text.trim() === '') fail(`"${textField}" must be a non-empty string`);
    texts.push(text as string);
  }
  return texts;
}

/** Checks examples given as an array (same rules as the file format). */
export function validateExamples(examples: readonly LabelledExample[], allowedLabels?: readonly string[]): void {
  const allowed = allowedLabels ? new Set(allowedLabels) : null;
  examples.forEach((ex, i) => {
    const fail = (problem: string): never => {
      throw new ExampleError(`example #${i + 1}: ${problem}`, i + 1);
    };
    if (typeof ex !== 'object' || ex === null) fail('expected an object');
    if (typeof ex.text !== 'string') fail('missing text');
    if (ex.text.trim() === '') fail('empty text');
    if (typeof ex.label !== 'string' || ex.label.trim() === '') fail('missing label');
    if (allowed && !allowed.has(ex.label)) {
      fail(`label ${JSON.stringify(ex.label)} is not one of: ${[...allowed].join(', ')}`);
    }
  });
}

/** Digest of a training set, in order (order changes the seeded training). */
export function hashExamples(examples: readonly LabelledExample[]): string {
  return digest(examples.flatMap((ex) => [ex.label, ex.text]));
}

/**
 * The examples whose label is one of `labels`, and how many of each other
 * label were left out: the bundled example files are written for the default
 * taxonomy, and a district file made from it may drop types.
 */
export function examplesOf(examples: LabelledExample[], labels: Iterable<string>): { kept: LabelledExample[]; leftOut: Record<string, number> } {
  const known = new Set(labels);
  const kept: LabelledExample[] = [];
  const leftOut: Record<string, number> = {};
  for (const e of examples) {
    if (known.has(e.label)) kept.push(e);
    else leftOut[e.label] = (leftOut[e.label] ?? 0) + 1;
  }
  return { kept, leftOut };
}
