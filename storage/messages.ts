import type { DocWrite, Store } from './store';

/**
 * An outbound WhatsApp message (document `messages/<wamid>`) and what the platform reported about its
 * delivery. Documents written before the slimmer shape also hold `id` (the wamid again), `key` (the
 * actor key, `wa:<to>`), `effectId` (the outbox row it came from) and `statuses: []` before the first
 * status; nothing reads those, and a missing `statuses` means none yet.
 */
export interface OutboundMessageDoc {
  [k: string]: unknown;
  to: string;
  sentAt: number;
  /** The furthest status seen: accepted < sent < delivered < read; failed wins over all. */
  status: DeliveryStatus;
  /** Every status received, in arrival order; absent until the first one. */
  statuses?: Array<{ status: string; at: number; errors?: Array<{ code: number; title?: string }> }>;
}

export type DeliveryStatus = 'accepted' | 'sent' | 'delivered' | 'read' | 'failed';
export const MESSAGES = 'messages';
const RANK: Record<DeliveryStatus, number> = { accepted: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

export function messageSent(doc: { id: string; to: string; sentAt: number }): DocWrite {
  return {
    collection: MESSAGES,
    id: doc.id,
    update: (prev) =>
      (prev as OutboundMessageDoc | undefined) ?? {
        to: doc.to,
        sentAt: doc.sentAt,
        status: 'accepted',
      },
  };
}

/**
 * Records a delivery status; statuses arrive out of order (read before delivered), so the furthest
 * one is kept as `status` and every one is kept in `statuses`. Unknown statuses are only listed.
 */
export function messageStatus(
  id: string,
  status: string,
  at: number,
  errors?: Array<{ code: number; title?: string }>,
): DocWrite {
  return {
    collection: MESSAGES,
    id,
    update: (prev) => {
      const doc = prev as OutboundMessageDoc | undefined;
      if (!doc) return null; // not one of ours (or already forgotten): nothing to keep
      const known = status in RANK ? (status as DeliveryStatus) : undefined;
      const furthest = known && RANK[known] > RANK[doc.status] ? known : doc.status;
      return {
        ...doc,
        status: furthest,
        statuses: [...(doc.statuses ?? []), { status, at, ...(errors ? { errors } : {}) }],
      };
    },
  };
}

export function getMessage(store: Store, id: string): OutboundMessageDoc | undefined {
  return store.get<OutboundMessageDoc>(MESSAGES, id);
}
