import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { normalisePhone } from '../lib/phone';

/** One record of a clients file (CLIENTS_FILE, or a list to import), `phone,name`. */
export interface ClientRow {
  /** The line the record ends on (1-based). */
  line: number;
  /** Normalised; null when the first cell is not a phone number (a header, a note). */
  phone: string | null;
  name: string;
  /** The record's cells as read, to show in messages. */
  cells: string[];
}

/**
 * Reads `phone,name` CSV as people write it: with or without a header line, a BOM, blank lines,
 * spaces around cells, `\n`, `\r\n` or `\r` line ends, quotes around cells or stray quotes inside
 * them. Cells past the second (an unquoted comma in a name) are joined back with ", ". A record the
 * CSV cannot be read past (an unclosed quote) is left out and named in `errors`; records after it may
 * be missing too.
 */
export function readClientsCsv(text: string): { rows: ClientRow[]; errors: string[] } {
  const rows: ClientRow[] = [];
  const errors: string[] = [];
  parse(text, {
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    relax_quotes: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_records_with_error: true,
    // The library names the line where it gave up, which for an unclosed quote is the end of the file.
    on_skip: (err) => {
      if (err) errors.push(`${err.message} (the last good record ends on line ${rows.at(-1)?.line ?? 0})`);
    },
    on_record: (cells: string[], { lines }) => {
      const [phone = '', ...name] = cells;
      rows.push({
        line: lines,
        phone: normalisePhone(phone),
        name: name.filter((cell) => cell !== '').join(', '),
        cells,
      });
      return null;
    },
  });
  return { rows, errors };
}

/** phone → name of the rows that are a phone number; a later row for the same phone wins. */
export function clientMap(rows: ClientRow[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of rows) if (r.phone) out.set(r.phone, r.name);
  return out;
}

/** The clients of a `phone,name` CSV text; see readClientsCsv for what it accepts. */
export function parseClients(text: string): Map<string, string> {
  return clientMap(readClientsCsv(text).rows);
}

/** `phone,name` CSV (RFC 4180 quoting, `\n` line ends), with a header line unless told otherwise. */
export function clientsCsv(clients: Iterable<[phone: string, name: string]>, header = true): string {
  return stringify([...(header ? [['phone', 'name']] : []), ...clients]);
}
