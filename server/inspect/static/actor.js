/* A machine's actors: the list, and the chosen one's panel with history stepping and its sequence view. */
import { draw, drawSequence, keepCurrentInView } from './diagram.js';
import { $, el, getJson, when } from './dom.js';
import { view } from './view.js';

const row = (cells) =>
  el(
    'tr',
    {},
    cells.map((t) => el('td', { textContent: t })),
  );

/** The machine's actors (the first of `total`); a click on one calls `select` with it. */
export function renderList(m, actors, total, select) {
  const s = $(`section[data-machine="${m.name}"]`);
  $('.count', s).textContent = total > actors.length ? `(${actors.length} of ${total})` : `(${total})`;
  const rows = actors.map((a) => {
    const tr = row([a.key, a.state, a.lastEvent, when(a.updatedAt)]);
    tr.dataset.state = a.state;
    if (a.status === 'done') tr.classList.add('done');
    if (view.selected?.id === a.id) tr.classList.add('selected');
    tr.addEventListener('click', () => select(a));
    return tr;
  });
  $('.actors tbody', s).replaceChildren(...rows);
}

/**
 * History stepping: `view.step` is null (live) or the index of a stored transition (oldest first);
 * the diagram then highlights the state after it and the panel shows its event and effects.
 */
export function stepTo(m, where) {
  const a = view.detail;
  if (!a || a.machine !== m.name || a.history.length === 0) return;
  const last = a.history.length - 1;
  const at = view.step ?? last + 1;
  const next = where === 'live' ? null : where === 'back' ? Math.max(0, at - 1) : at + 1;
  view.step = next === null || next > last ? null : next;
  void renderDetail(m, a);
}

/** The conversation across actors around `a` (a Mermaid sequence diagram), redrawn when it changes. */
async function renderSequence(m, a) {
  const box = $(`section[data-machine="${m.name}"] .sequence`);
  const seq = await getJson(`/inspect/sequence.json?id=${encodeURIComponent(a.id)}`);
  box.hidden = false;
  await drawSequence($('.sequence-diagram', box), a.id, seq.mermaid);
}

/** The chosen actor `a` of machine `m`: its panel, and its diagram at the live or stepped state. */
export async function renderDetail(m, a) {
  const d = $(`section[data-machine="${m.name}"] .detail`);
  d.hidden = false;
  $('.key', d).textContent = a.key;
  $('.state', d).textContent = a.state;
  $('.event', d).textContent = `${a.lastEvent} at ${when(a.updatedAt)}`;
  const rows = [...a.history].reverse().map((h) => row([when(h.at), h.event, `${h.from} → ${h.to}`]));
  $('.history tbody', d).replaceChildren(...rows);
  $('.context', d).textContent = JSON.stringify(a.context, null, 2);
  view.detail = a;
  if (view.step !== null && view.step >= a.history.length) view.step = null;
  const step = view.step === null ? null : a.history[view.step];
  rows[a.history.length - 1 - (view.step ?? -1)]?.classList.add('stepped');
  $('.step-label', d).textContent = step ? `step ${view.step + 1} of ${a.history.length}` : 'live';
  $('.stepper .forward', d).disabled = !step;
  $('.stepper .live', d).disabled = !step;
  $('.stepper .back', d).disabled = a.history.length === 0 || view.step === 0;
  $('.step', d).hidden = !step;
  if (step) {
    $('.step-event', d).textContent = `${when(step.at)} · ${step.event}: ${step.from} → ${step.to}`;
    const effects = step.effects ?? [];
    $('.step-effects', d).replaceChildren(
      ...(effects.length === 0
        ? [el('li', { className: 'none', textContent: 'no effects' })]
        : effects.map((e) => el('li', {}, [el('b', { textContent: e.channel }), ` ${e.summary}`]))),
    );
  }
  if (view.sequence) await renderSequence(m, a);
  const target = step ? step.to : a.state;
  if (view.shown.get(m.name) !== target) {
    const diagram = step
      ? (await getJson(`/inspect/diagram.json?${new URLSearchParams({ machine: m.name, state: target })}`))
          .diagram
      : a.diagram;
    if (!diagram) return;
    view.shown.set(m.name, target);
    await draw(m.name, diagram, target);
  } else keepCurrentInView(m.name);
}
