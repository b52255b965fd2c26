import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The bot's words are all in one place, src/telegram/texts.ts, for
 * translation: no other file of the bot writes a Chinese (or any Han)
 * string of its own. Patterns that read what residents type (regular
 * expressions, String.raw sources of them) are not words the bot says.
 */

const HAN = /\p{Script=Han}/u;
const TELEGRAM_DIR = join(import.meta.dirname, '..', 'src', 'telegram');

function hanStrings(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    // A String.raw template is the source of a pattern: neither it nor its template is visited.
    if (ts.isTaggedTemplateExpression(node) && node.tag.getText(source) === 'String.raw') return;
    // The source of a regular expression built from a string: a pattern, not words.
    if (ts.isNewExpression(node) && node.expression.getText(source) === 'RegExp') return;
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) && HAN.test(node.getText(source))) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push(`${file.slice(TELEGRAM_DIR.length + 1)}:${line + 1}: ${node.getText(source)}`);
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("the Telegram bot's texts", () => {
  it('are all in texts.ts: no other file of the bot writes Chinese words of its own', () => {
    const files = readdirSync(TELEGRAM_DIR).filter((f) => f.endsWith('.ts') && f !== 'texts.ts');
    expect(files.length).toBeGreaterThan(5);
    expect(files.flatMap((f) => hanStrings(join(TELEGRAM_DIR, f)))).toEqual([]);
  });
});
