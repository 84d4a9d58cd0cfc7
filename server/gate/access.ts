import { readFileSync, statSync } from 'node:fs';
import type { DocWrite, Store } from '../../storage/store';
import type { Logger } from '../lib/log';
import { clientMap, readClientsCsv } from './clients-csv';

/** An admin's decision about one phone (document `access/<phone>`); it overrides the lists. */
export interface AccessDoc {
  [k: string]: unknown;
  phone: string;
  allowed: boolean;
  by: number;
  at: number;
}

/** The phone a Telegram user proved by sharing their own contact (document `tgusers/<id>`). */
export interface TgUserDoc {
  [k: string]: unknown;
  userId: number;
  phone: string;
  at: number;
}

export const ACCESS = 'access';
export const TGUSERS = 'tgusers';
/** Admins' access decisions all go to one partition, whoever makes them. */
export const ACCESS_PARTITION = 'access';

export function accessWrite(phone: string, allowed: boolean, by: number, at: number): DocWrite {
  return { collection: ACCESS, id: phone, update: () => ({ phone, allowed, by, at }) };
}

export function tgUserWrite(userId: number, phone: string, at: number): DocWrite {
  return { collection: TGUSERS, id: String(userId), update: () => ({ userId, phone, at }) };
}

/**
 * Who may open the gates, decided afresh at every command: admins and TELEGRAM_ALLOWED_USERS always;
 * anyone else through the phone they proved, if an admin allowed it (/allow), or it is in
 * ALLOWED_PHONES or CLIENTS_FILE and no admin revoked it (/revoke). CLIENTS_FILE is re-read when it
 * changes on disk.
 */
export class Access {
  private clients = new Map<string, string>();
  private clientsStamp = '';

  constructor(
    private readonly store: Store,
    private readonly cfg: {
      adminIds: number[];
      allowedUsers: number[];
      allowedPhones: string[];
      clientsFile?: string;
    },
    private readonly log: Logger,
  ) {}

  isAdmin(userId: number): boolean {
    return this.cfg.adminIds.includes(userId);
  }

  phoneOf(userId: number): string | null {
    return this.store.get<TgUserDoc>(TGUSERS, String(userId))?.phone ?? null;
  }

  phoneAllowed(phone: string): boolean {
    const decision = this.store.get<AccessDoc>(ACCESS, phone);
    if (decision) return decision.allowed;
    return this.cfg.allowedPhones.includes(phone) || this.clientList().has(phone);
  }

  /** Allowed to open, given the phone the user proves now (a contact) or proved before. */
  userAllowed(userId: number, phone: string | null = this.phoneOf(userId)): boolean {
    if (this.isAdmin(userId) || this.cfg.allowedUsers.includes(userId)) return true;
    return phone !== null && this.phoneAllowed(phone);
  }

  private clientList(): Map<string, string> {
    const file = this.cfg.clientsFile;
    if (!file) return this.clients;
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      if (this.clientsStamp !== 'missing')
        this.log.warn('CLIENTS_FILE cannot be read; no clients allowed from it', { file });
      this.clientsStamp = 'missing';
      this.clients = new Map();
      return this.clients;
    }
    if (stamp !== this.clientsStamp) {
      const { rows, errors } = readClientsCsv(readFileSync(file, 'utf-8'));
      this.clients = clientMap(rows);
      this.clientsStamp = stamp;
      this.log.info('CLIENTS_FILE loaded', { file, clients: this.clients.size });
      if (errors.length > 0)
        this.log.warn('CLIENTS_FILE is not valid CSV; clients after the error may be missing', {
          file,
          errors,
        });
    }
    return this.clients;
  }
}
