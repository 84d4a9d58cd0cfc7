import type { Store } from '../../storage/store';
import { ALERT_CHANNEL } from '../alerts/binding';
import { EFFECT_ID_CHARS } from '../engine/effect-summary';
import type { ActorRecord, EffectRow, HistoryEffect } from '../engine/types';
import { maskPhones } from '../lib/log';
import { actorId, iso } from './actors';

/**
 * One conversation across actors, from what the store keeps: the actors' bounded histories (each step's
 * event, its delivery `ref` and the effects it queued) and the outbox / dead-letter rows still there.
 * The links: a `gate` effect's id names the gate call it started (`call:<gate>:<effectId>`, whose
 * first step has the ref `spawn:<effectId>`); a `result:<effectId>` ref is the answer to the actor's
 * own effect; `zd:` refs are Zadarma's webhooks, `tg:update:` Telegram's updates, `wa:` WhatsApp's.
 */
export interface Sequence {
  participants: Array<{ id: string; label: string }>;
  messages: Array<{ at: string; from: string; to: string; text: string }>;
  /** The same as a Mermaid `sequenceDiagram`. */
  mermaid: string;
}

const EXTERNAL: Record<string, { id: string; label: string }> = {
  'wa:': { id: 'employee', label: 'WhatsApp employee' },
  'tg:': { id: 'tgUser', label: 'Telegram user' },
  'ivr:': { id: 'caller', label: 'Caller (voice menu)' },
  'call:': { id: 'tgUser', label: 'Telegram user' },
};
const ZADARMA = { id: 'zadarma', label: 'Zadarma' };
const ALERTS = { id: 'alerts', label: 'Admin alerts' };

/** Where an effect of `channel` goes, seen from an actor whose outside party is `user`. */
function targetOf(channel: string, user: { id: string; label: string }): { id: string; label: string } {
  if (channel === 'zadarma') return ZADARMA;
  if (channel === ALERT_CHANNEL) return ALERTS;
  if (channel === 'telegram') return EXTERNAL['tg:'] as { id: string; label: string };
  if (channel === 'whatsapp') return EXTERNAL['wa:'] as { id: string; label: string };
  return user;
}

const externalOf = (key: string) =>
  Object.entries(EXTERNAL).find(([p]) => key.startsWith(p))?.[1] ?? { id: 'outside', label: 'Outside' };

/** The sequence around the actor named by its key or its inspector id; undefined when there is none. */
export function sequenceOf(store: Store, keyOrId: string): Sequence | undefined {
  const actors = store.all<ActorRecord>('actors');
  const start = actors.find((a) => a.key === keyOrId) ?? actors.find((a) => actorId(a.key) === keyOrId);
  if (!start) return undefined;

  // The actor that started a gate call (its history holds the `gate` effect the call is named after).
  const originOf = (call: ActorRecord) => {
    const effectId = callEffectId(call.key);
    return actors.find(
      (a) =>
        !a.key.startsWith('call:') &&
        a.history?.some((h) => h.effects?.some((e) => e.channel === 'gate' && effectId.startsWith(e.id))),
    );
  };
  const callOf = (effect: HistoryEffect) =>
    actors.find((a) => a.key.startsWith('call:') && callEffectId(a.key).startsWith(effect.id));

  const root = start.key.startsWith('call:') ? (originOf(start) ?? start) : start;
  const chain: ActorRecord[] = [root];
  for (const h of root.history ?? [])
    for (const e of h.effects ?? []) {
      const call = e.channel === 'gate' ? callOf(e) : undefined;
      if (call && !chain.includes(call)) chain.push(call);
    }
  if (!chain.includes(start)) chain.push(start);

  const user = externalOf(root.key);
  const participants = new Map<string, string>([[user.id, user.label]]);
  const actorPid = new Map<string, string>();
  chain.forEach((a, i) => {
    actorPid.set(a.key, `a${i}`);
    participants.set(`a${i}`, maskPhones(a.key));
  });
  const pending = rowsOf(store, 'outbox');
  const failed = rowsOf(store, 'deadletters');

  const items: Array<{ at: number; rank: number; from: string; to: string; text: string }> = [];
  let rank = 0;
  for (const a of chain) {
    const me = actorPid.get(a.key) as string;
    for (const h of a.history ?? []) {
      const ref = h.ref ?? '';
      let from = user.id;
      // A call's REQUEST is the origin's `gate` effect, drawn from there already.
      const spawned = ref.startsWith('spawn:') && chain[0] !== a;
      if (ref.startsWith('spawn:') && !spawned) from = 'gate';
      else if (ref.startsWith('zd:')) from = ZADARMA.id;
      else if (ref.startsWith('result:')) {
        const effect = a.history?.flatMap((x) => x.effects ?? []).find((e) => ref.slice(7).startsWith(e.id));
        from = effect ? targetOf(effect.channel, user).id : me;
      } else if (h.event === 'TIMEOUT' || ref.startsWith('timeout:')) from = me;
      if (from === ZADARMA.id) participants.set(ZADARMA.id, ZADARMA.label);
      if (from === 'gate') participants.set('gate', 'Gate request');
      const how = ref.startsWith('zd:') ? ` (webhook ${ref.split(':')[1] ?? ''})` : '';
      if (!spawned) items.push({ at: h.at, rank: rank++, from, to: me, text: `${h.event}${how}` });
      const commit = spawned ? `${h.event} → commit` : 'commit';
      items.push({ at: h.at, rank: rank++, from: me, to: me, text: `${commit}: ${h.from} → ${h.to}` });
      for (const e of h.effects ?? []) {
        let to: { id: string; label: string };
        if (e.channel === 'gate') {
          const call = callOf(e);
          to = call
            ? { id: actorPid.get(call.key) as string, label: '' }
            : { id: 'gate', label: 'Gate call' };
        } else to = targetOf(e.channel, user);
        if (!participants.has(to.id)) participants.set(to.id, to.label);
        const state = failed.has(`${a.key} ${e.id}`)
          ? ' [failed]'
          : pending.has(`${a.key} ${e.id}`)
            ? ' [queued]'
            : '';
        const what = e.channel === 'zadarma' ? 'callback request' : e.channel;
        items.push({ at: h.at, rank: rank++, from: me, to: to.id, text: `${what}: ${e.summary}${state}` });
      }
    }
  }
  items.sort((x, y) => x.at - y.at || x.rank - y.rank);
  const list = [...participants].map(([id, label]) => ({ id, label }));
  const messages = items.map((m) => ({ at: iso(m.at), from: m.from, to: m.to, text: maskPhones(m.text) }));
  return { participants: list, messages, mermaid: toSequenceDiagram(list, messages) };
}

/** The id of the `gate` effect a gate call is named after (`call:<gate>:<effectId>`). */
const callEffectId = (key: string) => key.split(':')[2] ?? '';

/** `key id` of every row of an outbox-like collection, the id shortened as history keeps it. */
function rowsOf(store: Store, collection: string): Set<string> {
  return new Set(store.all<EffectRow>(collection).map((r) => `${r.key} ${r.id.slice(0, EFFECT_ID_CHARS)}`));
}

function toSequenceDiagram(participants: Sequence['participants'], messages: Sequence['messages']): string {
  const lines = ['sequenceDiagram'];
  for (const p of participants) lines.push(`  participant ${p.id} as ${safe(p.label)}`);
  for (const m of messages) {
    if (m.from === m.to) lines.push(`  Note over ${m.from}: ${safe(m.text)}`);
    else lines.push(`  ${m.from}->>${m.to}: ${safe(m.text)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Text Mermaid shows as it is: no line breaks, comments, entities, markup or statement separators. */
const safe = (text: string) => text.replace(/[\r\n;#%<>{}]+/g, ' ').trim() || '…';
