import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { closeDeps, createDeps, type Deps } from '../deps.js';
import { parseEnv } from '../env.js';
import { decodeText, formatOf, importCalls, openImport, SNIFF_BYTES, sniffEncoding, type FileEncoding, type ImportFormat } from '../hotline/import-calls.js';
import { createLogger } from '../logger.js';
import { missingSqliteDatabase } from './cli-input.js';
import { CommandError, parseCommandLine, runTool, UsageError } from './command-line.js';

/**
 * Hotline import from the command line: `npm run hotline -- import FILE`.
 * The same code path as `POST /api/v1/hotline/calls:import`: the file is
 * streamed, calls already on record are duplicates (a re-run creates nothing),
 * a bad record is reported with its line number and never stops the others.
 * Uses DATABASE_URL, DISTRICT_CONFIG, REDIS_URL … like the service; the cases
 * are committed with their outbox entries, so a running worker picks them up
 * (through Redis now, or through the service's relay later if Redis is away).
 */
const USAGE = `usage: npm run hotline -- import FILE [--format ndjson|csv] [--json]

  import FILE   NDJSON (one call a line) or CSV (header row with the field names:
                hotline,callId,startedAt,transcript required; callerNumber, operator,
                summary, anonymous, externalRef, type, lead, jurisdiction, urgent, text, parts,
                in any case or width, Call_ID, or by their Chinese names, 来电时间),
                in UTF-8, GBK / GB 18030 (as Excel saves a CSV on a Chinese Windows) or
                UTF-16 with its byte-order mark
  --format      when the file name does not end in .ndjson, .jsonl or .csv
  --json        print every record's result as NDJSON (as the HTTP import answers);
                otherwise only rejected records are printed

The last line is the summary: records, created, duplicate, rejected, cases and the
peak memory of the process (max_rss_kb). Exit status 0 when nothing was rejected,
1 when some records were rejected (the others are imported) or the import failed,
2 on a usage error.`;

const OPTIONS = {
  format: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ENCODING_NAMES: Record<FileEncoding, string> = { 'utf-8': 'UTF-8', gb18030: 'GB 18030 (GBK)', 'utf-16le': 'UTF-16', 'utf-16be': 'UTF-16' };

/** The encoding of an import file (a CSV that Excel on a Chinese Windows saved is GBK), from its first bytes. */
function encodingOf(file: string): FileEncoding {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const n = readSync(fd, head, 0, SNIFF_BYTES, 0);
    return sniffEncoding(head.subarray(0, n), n < SNIFF_BYTES);
  } finally {
    closeSync(fd);
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, file, ...extra] = positionals;
  if (command !== 'import') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  if (!file) throw new UsageError('import needs a FILE');
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
  let format: ImportFormat | null;
  if (values.format !== undefined) {
    if (values.format !== 'ndjson' && values.format !== 'csv') throw new UsageError('--format is ndjson or csv');
    format = values.format;
  } else {
    format = formatOf(file);
    if (!format) throw new UsageError(`cannot tell the format of ${file}: use --format ndjson|csv`);
  }
  // A file that is not there is no mistake in the command line but an import that cannot be done: status 1, one line.
  try {
    if (!statSync(file).isFile()) throw new CommandError(`${file} is not a file`);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CommandError(`cannot read ${file}: ${missing ? 'no such file' : (err as Error).message}`);
  }

  const env = parseEnv(process.env);
  // Calls imported into a database the service never reads would be lost to it.
  const missing = missingSqliteDatabase(env.DATABASE_URL);
  if (missing) throw new CommandError(missing);
  // Logs go to stderr: stdout carries the results.
  const deps: Deps = await createDeps(env, { logger: createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL, process.stderr) });
  let rejected = 0;
  try {
    const encoding = encodingOf(file);
    if (encoding !== 'utf-8') process.stderr.write(`hotline: ${file} is not UTF-8: read as ${ENCODING_NAMES[encoding]}\n`);
    const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
    const records = await openImport(decodeText(body, encoding), format, encoding);
    const results = importCalls(
      { db: deps.db, writer: deps.writer, clock: deps.clock, district: deps.district, classifier: deps.classifier, onCommitted: deps.kickOutbox },
      records,
      { id: null, role: 'operator' },
    );
    let out: string[] = [];
    const flush = () => {
      if (out.length > 0) process.stdout.write(out.join(''));
      out = [];
    };
    for await (const r of results) {
      if ('summary' in r) {
        flush();
        const maxRssKb = process.resourceUsage().maxRSS;
        const s = r.summary;
        rejected = s.rejected;
        // Nothing to import is no failure, but most likely not the file meant (an export cut short, the wrong one).
        if (s.records === 0) process.stderr.write(`hotline: ${file} holds no calls\n`);
        process.stdout.write(
          values.json
            ? `${JSON.stringify({ summary: { ...s, maxRssKb } })}\n`
            : `records=${s.records} created=${s.created} duplicate=${s.duplicate} rejected=${s.rejected} cases=${s.cases} max_rss_kb=${maxRssKb}\n`,
        );
        continue;
      }
      if (values.json) out.push(`${JSON.stringify(r)}\n`);
      else if (r.status === 'rejected') {
        const named = (k: string) => (r.columns?.[k] === undefined ? k : `${r.columns[k]} (${k})`);
        const fields = r.fields ? ` (${Object.entries(r.fields).map(([k, v]) => `${named(k)}: ${v}`).join('; ')})` : '';
        out.push(`line ${r.line}: rejected${r.callId ? ` ${r.callId}` : ''}: ${r.reason}${fields}\n`);
      }
      if (out.length >= 200) flush();
    }
    flush();
  } finally {
    // Give the relay a moment to hand the new jobs to Redis when it is there; the outbox keeps them otherwise.
    await Promise.race([deps.relay.drain().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    await closeDeps(deps);
  }
  return rejected > 0 ? 1 : 0;
}

runTool('hotline', USAGE, () => main(process.argv.slice(2)));
