/*
 * The inspector page: draws every machine's diagram with Mermaid (served by this server), lists the
 * live actors of each, and polls the JSON endpoints once a second. Choosing an actor redraws its
 * machine's diagram with the current state highlighted and shows its recent transitions.
 * Everything shown is built with textContent (actor data never becomes markup).
 */
import { renderDetail, renderList } from './actor.js';
import { applyZoom, draw } from './diagram.js';
import { $, getJson, when } from './dom.js';
import { playground } from './playground.js';
import { machineSection } from './section.js';
import { view } from './view.js';

const POLL_MS = 1000;
const actions = { select, refresh };
/** Set when the page has the playground: its typed-event form follows the selected actor. */
let followPlayground = () => {};

function select(actor) {
  const before = view.selected;
  if (before?.id !== actor?.id) {
    view.step = null;
    view.sequence = false;
    for (const box of document.querySelectorAll('.sequence')) box.hidden = true;
  }
  view.selected = actor ? { id: actor.id, machine: actor.machine } : null;
  // The machine of the actor chosen before, if no longer shown: its plain diagram again.
  const left = view.machines.find((m) => m.name === before?.machine && m.name !== view.selected?.machine);
  if (left) {
    $(`section[data-machine="${left.name}"] .detail`).hidden = true;
    view.shown.delete(left.name);
    void draw(left.name, left.mermaid, '');
  }
  void refresh();
}

let busy = false;
async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const q = new URLSearchParams({ limit: '50' });
    if (view.filter) q.set('key', view.filter);
    const list = await getJson(`/inspect/actors.json?${q}`);
    for (const m of view.machines) {
      const mine = list.actors.filter((a) => a.machine === m.name);
      renderList(m, mine, list.totals[m.name] ?? 0, select);
    }
    const sel = view.selected;
    if (sel) {
      const one = await getJson(`/inspect/actors.json?id=${encodeURIComponent(sel.id)}`);
      const a = one.actors[0];
      const m = view.machines.find((x) => x.name === sel.machine);
      if (a && m && view.selected?.id === sel.id) await renderDetail(m, a);
    }
    followPlayground();
    $('#status').textContent = `live · updated ${when(new Date().toISOString()).slice(11)}`;
    $('#status').className = 'status ok';
  } catch (e) {
    $('#status').textContent = `not updating: ${e.message}`;
    $('#status').className = 'status error';
  } finally {
    busy = false;
  }
}

async function start() {
  window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default' });
  const { machines, playground: play } = await getJson('/inspect/machines.json');
  view.machines = machines;
  const sections = machines.map((m) => machineSection(m, actions));
  if (play) {
    const p = playground(play, actions);
    followPlayground = p.follow;
    $('#machines').replaceChildren(p.box, ...sections);
  } else $('#machines').replaceChildren(...sections);
  for (const m of machines) await draw(m.name, m.mermaid, '');
  let timer;
  $('#filter').addEventListener('input', (e) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      view.filter = e.target.value.trim();
      void refresh();
    }, 200);
  });
  await refresh();
  setInterval(refresh, POLL_MS);
  addEventListener('resize', () => {
    for (const m of view.machines) applyZoom(m.name);
  });
}

start().catch((e) => {
  $('#status').textContent = `cannot start: ${e.message}`;
  $('#status').className = 'status error';
});
