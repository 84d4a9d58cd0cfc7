/*
 * The inspector page: draws every machine's diagram with Mermaid (served by this server), lists the
 * live actors of each, and polls the JSON endpoints once a second. Choosing an actor redraws its
 * machine's diagram with the current state highlighted and shows its recent transitions.
 * Everything shown is built with textContent (actor data never becomes markup).
 */
(() => {
  const POLL_MS = 1000;
  const $ = (sel, root = document) => root.querySelector(sel);
  const el = (tag, props = {}, children = []) => {
    const e = document.createElement(tag);
    Object.assign(e, props);
    for (const c of children) e.append(c);
    return e;
  };
  const when = (iso) => {
    if (!iso) return '';
    const d = new Date(iso);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  };

  async function getJson(path) {
    const res = await fetch(path, { cache: 'no-store' });
    if (!res.ok) throw new Error(`${path.split('?')[0]}: HTTP ${res.status}`);
    return res.json();
  }

  // Mermaid renders one diagram at a time.
  let renderCount = 0;
  let renderQueue = Promise.resolve();
  function draw(machine, text, current) {
    renderQueue = renderQueue.then(async () => {
      const box = $(`section[data-machine="${machine}"] .diagram`);
      try {
        const { svg } = await window.mermaid.render(`diagram-${++renderCount}`, text);
        box.innerHTML = svg;
        box.dataset.current = current ?? '';
        box.dataset.drawn = String(renderCount);
        applyZoom(machine);
        keepCurrentInView(machine);
      } catch (e) {
        box.textContent = `cannot draw this diagram: ${e.message}`;
      }
    });
    return renderQueue;
  }

  const view = {
    machines: [],
    selected: null,
    detail: null,
    step: null,
    sequence: false,
    shown: new Map(),
    filter: '',
    zoom: new Map(),
  };

  // Zoom: 1 fits the diagram to its box's width; the buttons and ctrl+wheel scale from there.
  const ZOOM_MIN = 0.25;
  const ZOOM_MAX = 6;
  const FIT_MAX_SCALE = 2;
  function applyZoom(machine) {
    const s = $(`section[data-machine="${machine}"]`);
    const svg = $('.diagram svg', s);
    const zoom = view.zoom.get(machine) ?? 1;
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
    view.zoom.set(machine, Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, zoom)));
    applyZoom(machine);
    keepCurrentInView(machine);
  }
  /** Scrolls the diagram's box (not the page) so that the highlighted state is visible. */
  function keepCurrentInView(machine) {
    const box = $(`section[data-machine="${machine}"] .diagram`);
    const node = $('svg g.node.current', box);
    if (!box || !node) return;
    const b = box.getBoundingClientRect();
    const n = node.getBoundingClientRect();
    const inside = n.left >= b.left && n.right <= b.right && n.top >= b.top && n.bottom <= b.bottom;
    if (inside) return;
    box.scrollLeft += n.left + n.width / 2 - (b.left + b.width / 2);
    box.scrollTop += n.top + n.height / 2 - (b.top + b.height / 2);
  }
  function zoomBar(machine) {
    const button = (text, title, action) => {
      const b = el('button', { type: 'button', textContent: text, title });
      b.dataset.zoom = action;
      b.addEventListener('click', () => {
        const z = view.zoom.get(machine) ?? 1;
        setZoom(machine, action === 'in' ? z * 1.25 : action === 'out' ? z / 1.25 : 1);
      });
      return b;
    };
    return el('div', { className: 'zoom' }, [
      button('−', 'zoom out', 'out'),
      el('span', { className: 'zoom-level', textContent: '100%' }),
      button('+', 'zoom in', 'in'),
      button('fit', 'fit to width', 'fit'),
    ]);
  }

  function section(m) {
    const s = el('section', { className: 'machine' });
    s.dataset.machine = m.name;
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
            el('thead', {}, [
              el(
                'tr',
                {},
                ['key', 'state', 'last event', 'updated'].map((t) => el('th', { textContent: t })),
              ),
            ]),
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
              el('button', {
                type: 'button',
                className: 'back',
                textContent: '◀',
                title: 'the transition before',
              }),
              el('span', { className: 'step-label', textContent: 'live' }),
              el('button', {
                type: 'button',
                className: 'forward',
                textContent: '▶',
                title: 'the transition after',
              }),
              el('button', {
                type: 'button',
                className: 'live',
                textContent: 'live',
                title: 'back to the current state',
              }),
              el('button', {
                type: 'button',
                className: 'show-sequence',
                textContent: 'Sequence',
                title: 'this conversation across its actors',
              }),
            ]),
            el('div', { className: 'step', hidden: true }, [
              el('p', { className: 'step-event' }),
              el('ul', { className: 'step-effects' }),
            ]),
            el('table', { className: 'history' }, [
              el('thead', {}, [
                el(
                  'tr',
                  {},
                  ['time', 'event', 'from → to'].map((t) => el('th', { textContent: t })),
                ),
              ]),
              el('tbody'),
            ]),
            el('details', {}, [
              el('summary', { textContent: 'context' }),
              el('pre', { className: 'context' }),
            ]),
          ]),
        ]),
      ]),
      el('div', { className: 'sequence', hidden: true }, [
        el('h3', {}, [
          'Sequence ',
          el('button', { type: 'button', className: 'hide-sequence', textContent: '×', title: 'hide' }),
        ]),
        el('div', { className: 'sequence-diagram' }),
      ]),
    );
    $('.close', s).addEventListener('click', () => select(null));
    $('.show-sequence', s).addEventListener('click', () => {
      view.sequence = true;
      void refresh();
    });
    $('.hide-sequence', s).addEventListener('click', () => {
      view.sequence = false;
      $('.sequence', s).hidden = true;
    });
    $('.stepper .back', s).addEventListener('click', () => stepTo(m, 'back'));
    $('.stepper .forward', s).addEventListener('click', () => stepTo(m, 'forward'));
    $('.stepper .live', s).addEventListener('click', () => stepTo(m, 'live'));
    $('.diagram', s).addEventListener(
      'wheel',
      (e) => {
        if (!e.ctrlKey) return;
        e.preventDefault();
        setZoom(m.name, (view.zoom.get(m.name) ?? 1) * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
      },
      { passive: false },
    );
    return s;
  }

  /**
   * History stepping: `view.step` is null (live) or the index of a stored transition (oldest first);
   * the diagram then highlights the state after it and the panel shows its event and effects.
   */
  function stepTo(m, where) {
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
    const target = $('.sequence-diagram', box);
    if (target.dataset.text === seq.mermaid && target.dataset.id === a.id) return;
    renderQueue = renderQueue.then(async () => {
      try {
        const { svg } = await window.mermaid.render(`sequence-${++renderCount}`, seq.mermaid);
        target.innerHTML = svg;
        target.dataset.text = seq.mermaid;
        target.dataset.id = a.id;
        target.dataset.participants = String(seq.participants.length);
      } catch (e) {
        target.textContent = `cannot draw this sequence: ${e.message}`;
      }
    });
    await renderQueue;
  }

  function select(actor) {
    const before = view.selected;
    if (before?.id !== actor?.id) {
      view.step = null;
      view.sequence = false;
      for (const box of document.querySelectorAll('.sequence')) box.hidden = true;
    }
    view.selected = actor ? { id: actor.id, machine: actor.machine } : null;
    for (const m of view.machines) {
      if (before?.machine === m.name && view.selected?.machine !== m.name) {
        $(`section[data-machine="${m.name}"] .detail`).hidden = true;
        view.shown.delete(m.name);
        void draw(m.name, m.mermaid, '');
      }
    }
    void refresh();
  }

  function renderList(m, actors, total) {
    const s = $(`section[data-machine="${m.name}"]`);
    $('.count', s).textContent = total > actors.length ? `(${actors.length} of ${total})` : `(${total})`;
    const rows = actors.map((a) => {
      const tr = el(
        'tr',
        {},
        [a.key, a.state, a.lastEvent, when(a.updatedAt)].map((t) => el('td', { textContent: t })),
      );
      tr.dataset.id = a.id;
      tr.dataset.state = a.state;
      if (a.status === 'done') tr.classList.add('done');
      if (view.selected?.id === a.id) tr.classList.add('selected');
      tr.addEventListener('click', () => select(a));
      return tr;
    });
    $('.actors tbody', s).replaceChildren(...rows);
  }

  async function renderDetail(m, a) {
    const s = $(`section[data-machine="${m.name}"]`);
    const d = $('.detail', s);
    d.hidden = false;
    d.dataset.id = a.id;
    $('.key', d).textContent = a.key;
    $('.state', d).textContent = a.state;
    $('.event', d).textContent = `${a.lastEvent} at ${when(a.updatedAt)}`;
    const rows = [...a.history].reverse().map((h) =>
      el(
        'tr',
        {},
        [when(h.at), h.event, `${h.from} → ${h.to}`].map((t) => el('td', { textContent: t })),
      ),
    );
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
        renderList(m, mine, list.totals[m.name] ?? 0);
      }
      const sel = view.selected;
      if (sel) {
        const one = await getJson(`/inspect/actors.json?id=${encodeURIComponent(sel.id)}`);
        const a = one.actors[0];
        const m = view.machines.find((x) => x.name === sel.machine);
        if (a && m && view.selected?.id === sel.id) await renderDetail(m, a);
      }
      $('#playground')?.follow();
      $('#status').textContent = `live · updated ${when(new Date().toISOString()).slice(11)}`;
      $('#status').className = 'status ok';
    } catch (e) {
      $('#status').textContent = `not updating: ${e.message}`;
      $('#status').className = 'status error';
    } finally {
      busy = false;
    }
  }

  /**
   * The playground (open development mode only): plays a WhatsApp employee, a Telegram user or
   * Zadarma's webhooks through the service's own routes, or sends a typed event to the selected actor.
   */
  function playground(options) {
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
      f.dataset.kind = kind;
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

    function body(kind, data) {
      const v = String(data.get('value') ?? '').trim();
      if (kind === 'whatsapp') {
        const as = data.get('as');
        return { kind, from: data.get('from'), [as === 'text' ? 'text' : as]: v };
      }
      if (kind === 'telegram') {
        const as = data.get('as');
        return { kind, user: Number(data.get('user')), [as === 'text' ? 'text' : as]: v };
      }
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
        if (answer?.actor) select(answer.actor);
        else void refresh();
      } catch (e) {
        result.dataset.played = String(++played);
        result.className = 'play-result error';
        result.textContent = `${kind}: ${e.message}`;
      }
    }

    /** The typed-event form follows the selected actor. */
    box.follow = () => {
      const m = view.machines.find((x) => x.name === view.selected?.machine);
      const key = view.detail?.id === view.selected?.id ? view.detail?.key : undefined;
      eventTarget.textContent = m ? `${key ?? 'the selected actor'} (${m.name})` : 'choose an actor below';
      const names = m ? m.events : [];
      if (eventTypes.dataset.machine !== (m?.name ?? '')) {
        eventTypes.dataset.machine = m?.name ?? '';
        eventTypes.replaceChildren(...names.map((n) => el('option', { value: n, textContent: n })));
      }
      $('.play-event button', box).disabled = !m;
    };
    return box;
  }

  async function start() {
    window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default' });
    const { machines, playground: play } = await getJson('/inspect/machines.json');
    view.machines = machines;
    $('#machines').replaceChildren(...(play ? [playground(play)] : []), ...machines.map(section));
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
})();
