/*
 * Mermaid drawing (one diagram at a time) and the diagrams' zoom: 1 fits a diagram to its box's
 * width; the buttons and ctrl+wheel scale from there, and the highlighted state is kept in view.
 */
import { $, el } from './dom.js';

let renderCount = 0;
let renderQueue = Promise.resolve();

/** Renders Mermaid `text` into `box` once the renders before it are done; then `drawn()`. */
function render(box, kind, text, drawn) {
  renderQueue = renderQueue.then(async () => {
    try {
      const { svg } = await window.mermaid.render(`${kind}-${++renderCount}`, text);
      box.innerHTML = svg;
      drawn();
    } catch (e) {
      box.textContent = `cannot draw this ${kind}: ${e.message}`;
    }
  });
  return renderQueue;
}

const diagramBox = (machine) => $(`section[data-machine="${machine}"] .diagram`);

/** Draws a machine's state diagram; `current` names the state it highlights ('' for none). */
export function draw(machine, text, current) {
  const box = diagramBox(machine);
  return render(box, 'diagram', text, () => {
    box.dataset.current = current;
    applyZoom(machine);
    keepCurrentInView(machine);
  });
}

/** Draws the sequence diagram of the actor `id` into `box`, unless it shows that one already. */
export async function drawSequence(box, id, text) {
  if (box.dataset.text === text && box.dataset.id === id) return;
  await render(box, 'sequence', text, () => {
    box.dataset.text = text;
    box.dataset.id = id;
  });
}

const ZOOM_MIN = 0.25;
const ZOOM_MAX = 6;
const FIT_MAX_SCALE = 2;
const zoomOf = new Map();

export function applyZoom(machine) {
  const s = $(`section[data-machine="${machine}"]`);
  const svg = $('.diagram svg', s);
  const zoom = zoomOf.get(machine) ?? 1;
  $('.zoom-level', s).textContent = `${Math.round(zoom * 100)}%`;
  if (!svg) return;
  // Fit: the box's width, but a small diagram is not blown up past twice its own size.
  const natural = svg.viewBox?.baseVal?.width || svg.getBoundingClientRect().width;
  const fit = Math.min($('.diagram', s).clientWidth, natural * FIT_MAX_SCALE);
  svg.style.maxWidth = 'none';
  svg.style.width = `${Math.round(fit * zoom)}px`;
  svg.removeAttribute('height');
  svg.style.height = 'auto';
}

function setZoom(machine, zoom) {
  zoomOf.set(machine, Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, zoom)));
  applyZoom(machine);
  keepCurrentInView(machine);
}

/** Scrolls the diagram's box (not the page) so that the highlighted state is visible. */
export function keepCurrentInView(machine) {
  const box = diagramBox(machine);
  const node = $('svg g.node.current', box);
  if (!box || !node) return;
  const b = box.getBoundingClientRect();
  const n = node.getBoundingClientRect();
  const inside = n.left >= b.left && n.right <= b.right && n.top >= b.top && n.bottom <= b.bottom;
  if (inside) return;
  box.scrollLeft += n.left + n.width / 2 - (b.left + b.width / 2);
  box.scrollTop += n.top + n.height / 2 - (b.top + b.height / 2);
}

/** The − 100% + fit buttons above a machine's diagram. */
export function zoomBar(machine) {
  const button = (text, title, action, next) => {
    const b = el('button', { type: 'button', textContent: text, title });
    b.dataset.zoom = action;
    b.addEventListener('click', () => setZoom(machine, next(zoomOf.get(machine) ?? 1)));
    return b;
  };
  return el('div', { className: 'zoom' }, [
    button('−', 'zoom out', 'out', (z) => z / 1.25),
    el('span', { className: 'zoom-level', textContent: '100%' }),
    button('+', 'zoom in', 'in', (z) => z * 1.25),
    button('fit', 'fit to width', 'fit', () => 1),
  ]);
}

/** ctrl+wheel over the diagram's `box` zooms it. */
export function zoomOnWheel(box, machine) {
  box.addEventListener(
    'wheel',
    (e) => {
      if (!e.ctrlKey) return;
      e.preventDefault();
      setZoom(machine, (zoomOf.get(machine) ?? 1) * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
    },
    { passive: false },
  );
}
