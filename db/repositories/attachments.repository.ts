import type { AttachmentRow } from '../schema.js';
import { insertNow } from '../insert-buffer.js';
import type { Db } from './db-types.js';

export interface Attachment {
  id: string;
  caseId: string;
  kind: 'photo';
  storageKey: string;
  mime: string;
  size: number;
  sha256: string;
  createdAt: string;
}

/** An attachment as stored: a bureau's reply file keeps the name the clerk gave it (null for reporters' photos). */
export type StoredAttachment = Attachment & { originalName: string | null };

export function toAttachment(row: AttachmentRow): StoredAttachment {
  return {
    id: row.id,
    caseId: row.case_id,
    kind: row.kind as 'photo',
    storageKey: row.storage_key,
    mime: row.mime,
    size: Number(row.size),
    sha256: row.sha256,
    createdAt: row.created_at,
    originalName: row.original_name ?? null,
  };
}

export async function insertAttachments(db: Db, list: Attachment[]): Promise<void> {
  await insertNow(
    db,
    'case_attachments',
    list.map((a) => ({
      id: a.id,
      case_id: a.caseId,
      kind: a.kind,
      storage_key: a.storageKey,
      mime: a.mime,
      size: a.size,
      sha256: a.sha256,
      created_at: a.createdAt,
    })),
  );
}

export async function listAttachments(db: Db, caseId: string): Promise<StoredAttachment[]> {
  const rows = await db.selectFrom('case_attachments').selectAll().where('case_id', '=', caseId).orderBy('created_at').execute();
  return rows.map(toAttachment);
}
