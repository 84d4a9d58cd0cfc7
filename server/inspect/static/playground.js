/*
 * The playground (open development mode only): plays a WhatsApp employee, a Telegram user or
 * Zadarma's webhooks through the service's own routes, or sends a typed event to the selected actor.
 */
import { $, el } from './dom.js';
import { view } from './view.js';

/** `options.gates`: the gates to choose from; `actions`: `select(actor)` and `refresh()` of the page. */
export function playground(options, actions) {
  const input = (name, value, placeholder = '') =>
    el('input', { name, value, placeholder, autocomplete: 'off', size: 14 });
  const choice = (name, values) =>
    el(
      'select',
      { name },
      values.map((v) => el('option', { value: v, textContent: v })),
    );
  const form = (kind, title, fields) => {
    const f = el('form', { className: `play play-${kind}` }, [
      el('b', { textContent: title }),
      ...fields,
      el('button', { type: 'submit', textContent: 'Send' }),
    ]);
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      void send(kind, new FormData(f));
    });
    return f;
  };
  const result = el('pre', { className: 'play-result', textContent: 'nothing played yet' });
  let played = 0;
  const eventTarget = el('span', { className: 'play-target', textContent: 'choose an actor below' });
  const eventTypes = el('select', { name: 'type' });
  const box = el('section', { id: 'playground' }, [
    el('h2', { textContent: 'Playground' }),
    el('p', {
      className: 'description',
      textContent:
        'Development mode with every channel dry: these post to the service’s own webhooks (what npm run simulate does).',
    }),
    form('whatsapp', 'WhatsApp employee', [
      input('from', '79990000001', 'phone'),
      choice('as', ['text', 'button', 'list']),
      input('value', '', 'меню or a reply id'),
    ]),
    form('telegram', 'Telegram user', [
      input('user', '42', 'user id'),
      choice('as', ['text', 'button', 'contact']),
      input('value', '', '/hvirtka, gate:vorota, a phone'),
    ]),
    form('zadarma', 'Zadarma webhook', [
      choice('gate', options.gates),
      choice('event', ['end', 'start']),
      choice('disposition', ['cancel', 'answered', 'busy', 'no answer', 'failed']),
    ]),
    form('event', 'Typed event to', [
      eventTarget,
      eventTypes,
      el('input', { name: 'fields', placeholder: '{"text": "меню"}', autocomplete: 'off', size: 24 }),
    ]),
    result,
  ]);

  /** The request for /inspect/playground: the form's fields, a WhatsApp or Telegram reply under its `as`. */
  function body(kind, data) {
    const v = String(data.get('value') ?? '').trim();
    if (kind === 'whatsapp') return { kind, from: data.get('from'), [data.get('as')]: v };
    if (kind === 'telegram') return { kind, user: Number(data.get('user')), [data.get('as')]: v };
    if (kind === 'zadarma')
      return {
        kind,
        gate: data.get('gate'),
        event: data.get('event'),
        disposition: data.get('disposition'),
      };
    const raw = String(data.get('fields') ?? '').trim();
    return { kind, id: view.selected?.id, type: data.get('type'), fields: raw ? JSON.parse(raw) : {} };
  }

  async function send(kind, data) {
    try {
      const res = await fetch('/inspect/playground', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body(kind, data)),
      });
      const text = await res.text();
      const answer = res.ok ? JSON.parse(text) : null;
      result.className = `play-result ${res.ok && answer.status < 300 ? 'ok' : 'error'}`;
      result.dataset.played = String(++played);
      result.textContent = answer
        ? `${kind}: HTTP ${answer.status}${answer.actor ? ` → ${answer.actor.machine} ${answer.actor.state}` : ''}`
        : `${kind}: ${res.status} ${text}`;
      // The actor it moved becomes the selected one: its highlighted state and history follow.
      if (answer?.actor) actions.select(answer.actor);
      else void actions.refresh();
    } catch (e) {
      result.dataset.played = String(++played);
      result.className = 'play-result error';
      result.textContent = `${kind}: ${e.message}`;
    }
  }

  /** The typed-event form follows the selected actor. */
  function follow() {
    const m = view.machines.find((x) => x.name === view.selected?.machine);
    const key = view.detail?.id === view.selected?.id ? view.detail?.key : undefined;
    eventTarget.textContent = m ? `${key ?? 'the selected actor'} (${m.name})` : 'choose an actor below';
    if (eventTypes.dataset.machine !== (m?.name ?? '')) {
      eventTypes.dataset.machine = m?.name ?? '';
      eventTypes.replaceChildren(
        ...(m ? m.events : []).map((n) => el('option', { value: n, textContent: n })),
      );
    }
    $('.play-event button', box).disabled = !m;
  }
  return { box, follow };
}
