/* A machine's part of the page: its diagram with the zoom bar, its actors, the chosen one's panel, the sequence view. */
import { stepTo } from './actor.js';
import { zoomBar, zoomOnWheel } from './diagram.js';
import { $, el } from './dom.js';
import { view } from './view.js';

/** `actions`: `select(actor | null)` and `refresh()` of the page. */
export function machineSection(m, actions) {
  const s = el('section', { className: 'machine' });
  s.dataset.machine = m.name;
  const button = (className, textContent, title) =>
    el('button', { type: 'button', className, textContent, title });
  const headRow = (names) =>
    el('thead', {}, [
      el(
        'tr',
        {},
        names.map((t) => el('th', { textContent: t })),
      ),
    ]);
  s.append(
    el('h2', {}, [m.name, el('small', { textContent: ` v${m.version} · keys ${m.keyPrefix}…` })]),
    el('p', { className: 'description', textContent: m.description }),
    el('div', { className: 'cols' }, [
      el('div', { className: 'diagram-wrap' }, [
        zoomBar(m.name),
        el('div', { className: 'diagram', textContent: 'drawing…' }),
      ]),
      el('div', { className: 'side' }, [
        el('h3', {}, ['Actors ', el('span', { className: 'count' })]),
        el('table', { className: 'actors' }, [
          headRow(['key', 'state', 'last event', 'updated']),
          el('tbody'),
        ]),
        el('div', { className: 'detail', hidden: true }, [
          el('h3', {}, [
            'Actor ',
            el('span', { className: 'key' }),
            el('button', { className: 'close', textContent: '×', title: 'back to the plain diagram' }),
          ]),
          el('p', {}, [
            'state ',
            el('b', { className: 'state' }),
            ' · last event ',
            el('span', { className: 'event' }),
          ]),
          el('div', { className: 'stepper' }, [
            button('back', '◀', 'the transition before'),
            el('span', { className: 'step-label', textContent: 'live' }),
            button('forward', '▶', 'the transition after'),
            button('live', 'live', 'back to the current state'),
            button('show-sequence', 'Sequence', 'this conversation across its actors'),
          ]),
          el('div', { className: 'step', hidden: true }, [
            el('p', { className: 'step-event' }),
            el('ul', { className: 'step-effects' }),
          ]),
          el('table', { className: 'history' }, [headRow(['time', 'event', 'from → to']), el('tbody')]),
          el('details', {}, [el('summary', { textContent: 'context' }), el('pre', { className: 'context' })]),
        ]),
      ]),
    ]),
    el('div', { className: 'sequence', hidden: true }, [
      el('h3', {}, ['Sequence ', button('hide-sequence', '×', 'hide')]),
      el('div', { className: 'sequence-diagram' }),
    ]),
  );
  $('.close', s).addEventListener('click', () => actions.select(null));
  $('.show-sequence', s).addEventListener('click', () => {
    view.sequence = true;
    void actions.refresh();
  });
  $('.hide-sequence', s).addEventListener('click', () => {
    view.sequence = false;
    $('.sequence', s).hidden = true;
  });
  for (const where of ['back', 'forward', 'live'])
    $(`.stepper .${where}`, s).addEventListener('click', () => stepTo(m, where));
  zoomOnWheel($('.diagram', s), m.name);
  return s;
}
