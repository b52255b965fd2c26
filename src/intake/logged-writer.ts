import type { Logger } from '../logger.js';
import type { IntakeWriter, PreparedReport } from './intake-writer.js';

/**
 * Logs each committed report with its case id, channel and (when a request
 * wrote it) the request's id: the first line of a case's trail, which the
 * job lines (queue, jobId, caseId) continue. Used by the Node processes and
 * the Workers build alike, so both write the same `report accepted` line;
 * `onAccepted` is told of each report too (Node counts them in its metrics).
 * The line carries ids only: never the reporter's name, phone or words.
 */
export function loggedWriter(writer: IntakeWriter, logger: Logger, onAccepted: (report: PreparedReport) => void = () => {}): IntakeWriter {
  const accepted = (reports: PreparedReport[]) => {
    for (const r of reports) {
      onAccepted(r);
      logger.info({ ...(r.requestId ? { reqId: r.requestId } : {}), caseId: r.caseRow.id, channel: r.caseRow.channel }, 'report accepted');
    }
  };
  return {
    async write(report) {
      await writer.write(report);
      accepted([report]);
    },
    async writeAll(reports) {
      await writer.writeAll(reports);
      accepted(reports);
    },
    ...(writer.up ? { up: () => writer.up!() } : {}),
  };
}
