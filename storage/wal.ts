import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Doc } from './store';
import { StoreError } from './store';

/**
 * The store's write-ahead log: commits are appended to `wal-<seq>.log` files, one line per commit,
 *   `<crc32 of the JSON, 8 hex digits> <JSON>\n`, JSON = [partition, [[collection, id, doc|null], …]],
 * and many commits share one write + fdatasync (group commit). A line holds whole documents (never a
 * change to one), so replaying the log over partition files that are older — or newer, when a
 * checkpoint wrote them after these lines — always ends at the log's last state.
 *
 * A crash can leave only the end of the newest file torn (a write that never finished its fdatasync:
 * its commits were never acknowledged), so that tail is cut; anything unreadable before a good line is
 * damage the service will not guess about.
 */
export type LogWrite = [collection: string, id: string, doc: Doc | null];
export type LogRecord = [partition: number, writes: LogWrite[]];

export const SEGMENT = /^wal-(\d+)\.log$/;
export const segmentFile = (seq: number) => `wal-${String(seq).padStart(8, '0')}.log`;

/** The log files among a folder's names, oldest first. */
export function logFiles(names: string[]): string[] {
  const seq = (f: string) => Number(SEGMENT.exec(f)?.[1]);
  return names.filter((f) => SEGMENT.test(f)).sort((a, b) => seq(a) - seq(b));
}

/** One commit's line, as bytes. */
export function encodeRecord(record: LogRecord): Buffer {
  const json = Buffer.from(JSON.stringify(record));
  const line = Buffer.allocUnsafe(json.length + 10);
  line.write(crc32(json).toString(16).padStart(8, '0'), 0, 'latin1');
  line[8] = 0x20;
  json.copy(line, 9);
  line[json.length + 9] = 0x0a;
  return line;
}

export interface SegmentRead {
  records: LogRecord[];
  /** Bytes of whole, valid lines; less than the file's size when its tail is torn. */
  goodBytes: number;
  size: number;
}

/**
 * Reads one log file. `last`: it is the newest file, whose torn tail is cut (reported by goodBytes);
 * in any other file, or before a valid line, an unreadable line is a StoreError naming the file.
 */
export async function readSegment(file: string, last: boolean): Promise<SegmentRead> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (e) {
    throw new StoreError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const records: LogRecord[] = [];
  let pos = 0;
  let badAt = -1;
  while (pos < data.length) {
    const end = data.indexOf(0x0a, pos);
    const record = end < 0 ? null : decodeLine(data.subarray(pos, end));
    if (record === null) {
      badAt = pos;
      break;
    }
    records.push(record);
    pos = end + 1;
  }
  if (badAt >= 0) {
    // A torn tail is the newest file's last, unfinished write: nothing valid may follow it.
    const later = data.indexOf(0x0a, badAt);
    const validAfter = later >= 0 && hasValidLine(data, later + 1);
    if (!last || validAfter)
      throw new StoreError(
        `${file} is damaged at byte ${badAt} (a line that does not match its checksum, ${validAfter ? 'with commits after it' : 'in a log file that is not the newest'}); it was left untouched — restore the store from a backup or move the file aside`,
      );
  }
  return { records, goodBytes: badAt >= 0 ? badAt : data.length, size: data.length };
}

function hasValidLine(data: Buffer, from: number): boolean {
  let pos = from;
  while (pos < data.length) {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) return false;
    if (decodeLine(data.subarray(pos, end))) return true;
    pos = end + 1;
  }
  return false;
}

function decodeLine(line: Buffer): LogRecord | null {
  if (line.length < 10 || line[8] !== 0x20) return null;
  const json = line.subarray(9);
  if (line.toString('latin1', 0, 8) !== crc32(json).toString(16).padStart(8, '0')) return null;
  try {
    const r = JSON.parse(json.toString('utf8')) as unknown;
    if (!Array.isArray(r) || !Number.isInteger(r[0]) || !Array.isArray(r[1])) return null;
    return r as LogRecord;
  } catch {
    return null;
  }
}

/** The open, newest log file: appends with a position, so a failed write can be cut off exactly. */
export class Segment {
  private constructor(
    readonly seq: number,
    readonly file: string,
    private handle: FileHandle | null,
    /** Bytes that were written and flushed: where the next append starts. */
    public size: number,
    readonly openedAt: number,
  ) {}

  /** Creates a new, empty log file (refuses to reuse a name). */
  static async create(dir: string, seq: number, now: number): Promise<Segment> {
    const file = join(dir, segmentFile(seq));
    const handle = await open(file, 'wx');
    return new Segment(seq, file, handle, 0, now);
  }

  /** A log file found at start: read, never appended to again. */
  static sealed(file: string, seq: number, size: number): Segment {
    return new Segment(seq, file, null, size, 0);
  }

  /** Appends and flushes; on any failure cuts the file back to its previous size and throws. */
  async append(data: Buffer, fsync: boolean): Promise<void> {
    const handle = await this.ready();
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, this.size + done);
        if (bytesWritten <= 0) throw new Error('the disk accepted no bytes');
        done += bytesWritten;
      }
      if (fsync) await handle.datasync();
    } catch (e) {
      await this.cut();
      throw e;
    }
    this.size += data.length;
  }

  /** Truncates to the flushed size; if even that fails, the handle is dropped and retried by `ready`. */
  private async cut(): Promise<void> {
    try {
      await this.handle?.truncate(this.size);
    } catch {
      await this.handle?.close().catch(() => undefined);
      this.handle = null;
    }
  }

  /** Makes the file exactly its flushed size (retries a cut that failed); throws if it cannot. */
  async trim(): Promise<void> {
    await this.ready();
  }

  private async ready(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    const handle = await open(this.file, 'r+');
    try {
      await handle.truncate(this.size);
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
    this.handle = handle;
    return handle;
  }

  async close(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
  }
}
