import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * A machine's definition as a Mermaid `stateDiagram-v2`, so its picture can never drift from the code:
 * nested (and parallel) states, `[*]` for initial and final states, every transition labelled with its
 * event and named guard (`EVENT [guard]`; an inline guard reads `guarded`), `always` and `after 30s`
 * spelt out instead of XState's internal event names.
 *
 * Conventions, where Mermaid needs one:
 * - A targetless transition of a simple state (it runs actions and stays) is listed inside the
 *   state's box, below its name, as UML writes internal transitions; one that re-enters its own state
 *   is a loop.
 * - A compound state's own transitions (they apply in any of its states) leave the composite itself:
 *   to a state outside it, an edge from its border; targetless, a loop on it. A machine whose root has
 *   transitions of its own is drawn inside one composite named after the machine.
 * - Mermaid cannot draw an edge from a composite into its own child (it rejects or scrambles it), so
 *   such a transition starts at the composite's `[*]`: an unlabelled `[*]` edge is the initial state,
 *   a labelled one is where the composite's own events lead (the line `initial` marks the initial
 *   state when both share the edge).
 * - Transitions between the same two states share one edge, one label line each (Mermaid would
 *   otherwise drop all but one).
 */
export interface MermaidOptions {
  /**
   * States to mark as current, as the engine labels them (`askingPeriod`, `live.pending`): the state
   * gets the class `current`, the composites around it `currentParent`.
   */
  highlight?: string | readonly string[];
}

const GUARD_FALLBACK = 'guarded';
const INITIAL = 'initial';

/** The Mermaid id of the state at `path` (keys from the root); unique across nesting levels. */
export function mermaidId(path: readonly string[]): string {
  // Mermaid names its own top-level document `root`: the machine's box cannot take that id.
  return path.map((k) => k.replace(/[^A-Za-z0-9_]/g, '_')).join('__') || MACHINE_BOX;
}

const MACHINE_BOX = '__machine';

export function toMermaid(machine: AnyStateMachine, opts: MermaidOptions = {}): string {
  const root = machine.root as AnyStateNode;
  const boxed = hasOwnTransitions(root);
  const edges = new Map<string, Edge[]>();
  const internal = new Map<string, string[]>();
  collectEdges(root, boxed, edges, internal);
  const blocks = scopedEdges(edges);
  const lines = ['stateDiagram-v2'];
  if (boxed) {
    // The root's own transitions leave the machine as a whole: everything else is drawn inside it.
    lines.push(`  state "${label(machine.id)}" as ${mermaidId([])}`, `  state ${mermaidId([])} {`);
    writeBlock(root, '    ', lines, blocks, internal);
    lines.push('  }');
    for (const line of blocks.get(OUTSIDE)?.lines ?? []) lines.push(`  ${line}`);
  } else writeBlock(root, '  ', lines, blocks, internal);
  const { current, parents } = highlighted(root, opts.highlight);
  if (current.length > 0) {
    lines.push('  classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px,font-weight:bold');
    lines.push(`  class ${current.join(',')} current`);
  }
  if (parents.length > 0) {
    lines.push('  classDef currentParent fill:#fff8e1,stroke:#e65100,stroke-width:2px');
    lines.push(`  class ${parents.join(',')} currentParent`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One end of an edge: its Mermaid id and the block it lives in, as the keys of the compound states
 * around it (`OUTSIDE` is around the machine's own box).
 */
interface End {
  id: string;
  block: readonly string[];
}

interface Edge {
  from: End;
  to: End;
  label: string;
}

/** The block around a boxed machine; `[]` is the machine's own block. */
const OUTSIDE = '^';
/** A `[*]` start marker of the block at `path`, told apart per block (every block has its own). */
const START = '[*]start:';

const stateEnd = (s: AnyStateNode, boxedRoot: boolean): End =>
  s.path.length === 0
    ? { id: mermaidId([]), block: boxedRoot ? [OUTSIDE] : [] }
    : { id: mermaidId(s.path), block: s.path.slice(0, -1) };
const startOf = (s: AnyStateNode): End => ({ id: `${START}${mermaidId(s.path)}`, block: s.path });
const isCompound = (s: AnyStateNode) => Object.keys(s.states).length > 0;
const hasOwnTransitions = (s: AnyStateNode) => s.transitions.size > 0 || (s.always?.length ?? 0) > 0;
/** Is `s` strictly inside `parent`? */
const isInside = (s: AnyStateNode, parent: AnyStateNode) =>
  s.path.length > parent.path.length && parent.path.every((k, i) => s.path[i] === k);

/**
 * Every transition and initial state of the machine, keyed by `from to` (edges between the same two
 * states are merged); the targetless transitions of simple states by state id in `internal`.
 */
function collectEdges(
  node: AnyStateNode,
  boxedRoot: boolean,
  edges: Map<string, Edge[]>,
  internal: Map<string, string[]>,
): void {
  const add = (e: Edge) => {
    const k = `${e.from.id} ${e.to.id}`;
    edges.set(k, [...(edges.get(k) ?? []), e]);
  };
  if (isCompound(node) && node.type !== 'parallel') {
    for (const t of node.initial?.target ?? [])
      add({ from: startOf(node), to: stateEnd(t, boxedRoot), label: INITIAL });
  }
  const from = stateEnd(node, boxedRoot);
  for (const t of transitionsOf(node)) {
    if (t.target.length === 0 && !isCompound(node))
      internal.set(from.id, [...(internal.get(from.id) ?? []), t.label]);
    else if (t.target.length === 0) add({ from, to: from, label: t.label });
    for (const target of t.target) {
      // Into its own child: from the composite's start marker (see the comment at the top).
      const start = isInside(target, node) ? startOf(node) : from;
      add({ from: start, to: stateEnd(target, boxedRoot), label: t.label });
    }
  }
  for (const child of Object.values(node.states) as AnyStateNode[])
    collectEdges(child, boxedRoot, edges, internal);
  if (node.type === 'final' && node.parent)
    add({ from: stateEnd(node, boxedRoot), to: { id: '[*]', block: node.path.slice(0, -1) }, label: '' });
}

/** Every transition of the node with its label (a targetless one has no targets). */
function transitionsOf(node: AnyStateNode): Array<{ target: readonly AnyStateNode[]; label: string }> {
  const out: Array<{ target: readonly AnyStateNode[]; label: string }> = [];
  const add = (t: { target?: ReadonlyArray<AnyStateNode> | undefined; guard?: unknown }, event: string) =>
    out.push({
      target: t.target ?? [],
      label: t.guard === undefined ? event : `${event} [${guardName(t.guard)}]`,
    });
  const delays = new Map<string, unknown>();
  for (const d of node.after ?? []) delays.set(String(d.eventType), d.delay);
  for (const [eventType, transitions] of node.transitions as Map<string, AnyStateNode['always']>) {
    const event = delays.has(eventType) ? `after ${delayText(delays.get(eventType))}` : eventName(eventType);
    for (const t of transitions ?? []) add(t, event);
  }
  for (const t of node.always ?? []) add(t, 'always');
  return out;
}

interface Block {
  /** The initial edges of this block, by target id, written where the block starts. */
  initial: Map<string, string>;
  lines: string[];
}

/**
 * Edge lines by the block they must be written in: the innermost one holding both ends (Mermaid
 * moves a state into the block where an edge names it).
 */
function scopedEdges(edges: Map<string, Edge[]>): Map<string, Block> {
  const byBlock = new Map<string, Block>();
  for (const group of edges.values()) {
    const { from, to } = group[0] as Edge;
    const block: string[] = [];
    for (let i = 0; i < Math.min(from.block.length, to.block.length) && from.block[i] === to.block[i]; i++)
      block.push(from.block[i] as string);
    const labels = group.map((e) => e.label).filter(Boolean);
    // The initial edge alone stays unlabelled; sharing its edge with transitions, it says so.
    const text = labels.length === 1 && labels[0] === INITIAL ? [] : labels;
    const k = block.join('.');
    const b = byBlock.get(k) ?? { initial: new Map<string, string>(), lines: [] };
    byBlock.set(k, b);
    const line = `${drawn(from.id)} --> ${drawn(to.id)}${text.length > 0 ? ` : ${text.join('<br/>')}` : ''}`;
    if (labels.includes(INITIAL)) b.initial.set(to.id, line);
    else b.lines.push(line);
  }
  return byBlock;
}

const drawn = (id: string) => (id.startsWith(START) ? '[*]' : id);

/** A compound state's contents: names (with internal transitions), initial marker, nested blocks, edges. */
function writeBlock(
  node: AnyStateNode,
  indent: string,
  out: string[],
  blocks: Map<string, Block>,
  internal: Map<string, string[]>,
): void {
  const children = Object.values(node.states) as AnyStateNode[];
  const block = blocks.get(node.path.join('.'));
  for (const child of children) {
    const id = mermaidId(child.path);
    const inside = internal.get(id) ?? [];
    // Declared with its name, a state's description lines go below the name instead of replacing it.
    if (id !== child.key || inside.length > 0) out.push(`${indent}state "${label(child.key)}" as ${id}`);
    for (const line of inside) out.push(`${indent}${id} : ${line}`);
    if (child.type === 'history') out.push(`${indent}note right of ${id} : history (${child.history})`);
  }
  for (const line of block?.initial.values() ?? []) out.push(`${indent}${line}`);
  children.forEach((child, i) => {
    if (node.type === 'parallel' && i > 0) out.push(`${indent}--`);
    if (isCompound(child)) {
      out.push(`${indent}state ${mermaidId(child.path)} {`);
      writeBlock(child, `${indent}  `, out, blocks, internal);
      out.push(`${indent}}`);
    }
  });
  for (const line of block?.lines ?? []) out.push(`${indent}${line}`);
}

/** XState's internal event names, readable. */
function eventName(type: string): string {
  if (type === '*') return 'any event';
  const done = /^xstate\.done\.state\.(.+)$/.exec(type);
  if (done) return 'done';
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  if (actor) return `${actor[1]} ${actor[2]}`;
  return label(type);
}

/** `30s`, `500ms`, `30min`, or a named delay. */
export function delayText(delay: unknown): string {
  if (typeof delay === 'number') {
    if (delay < 1000) return `${delay}ms`;
    if (delay % 60_000 === 0) return `${delay / 60_000}min`;
    return `${delay / 1000}s`;
  }
  return typeof delay === 'string' ? label(delay) : 'a computed delay';
}

/** A named guard by its name (with its params), a higher-order one spelt out, an inline one `guarded`. */
export function guardName(guard: unknown): string {
  if (typeof guard === 'string') return label(guard);
  if (typeof guard === 'function') {
    const inner = (guard as { guards?: unknown[] }).guards;
    if (Array.isArray(inner) && ['not', 'and', 'or'].includes(guard.name)) {
      const names = inner.map(guardName);
      return guard.name === 'not' ? `not ${names[0]}` : names.join(` ${guard.name} `);
    }
    const name = guard.name;
    return name && name !== 'guard' && name !== 'anonymous' ? label(name) : GUARD_FALLBACK;
  }
  if (guard && typeof guard === 'object' && 'type' in guard) {
    const { type, params } = guard as { type: unknown; params?: unknown };
    const args =
      params && typeof params === 'object'
        ? Object.values(params)
            .filter((v) => ['string', 'number', 'boolean'].includes(typeof v))
            .join(', ')
        : '';
    const name = typeof type === 'string' ? label(type) : GUARD_FALLBACK;
    return args ? `${name}(${label(args)})` : name;
  }
  return GUARD_FALLBACK;
}

/** Text safe inside a Mermaid label or quoted state name. */
function label(text: string): string {
  return text
    .replace(/[;#"{}\n\r]/g, ' ')
    .replace(/</g, '‹')
    .replace(/>/g, '›');
}

/** Mermaid ids of the states named (each resolved as deep as it goes) and of the composites around them. */
function highlighted(
  root: AnyStateNode,
  highlight: MermaidOptions['highlight'],
): { current: string[]; parents: string[] } {
  const names = typeof highlight === 'string' ? highlight.split(',') : (highlight ?? []);
  const current = new Set<string>();
  const parents = new Set<string>();
  for (const name of names) {
    let node: AnyStateNode | undefined = root;
    const around: AnyStateNode[] = [];
    for (const key of name.trim().split('.').filter(Boolean)) {
      const next = node?.states[key] as AnyStateNode | undefined;
      if (!next) break;
      if (node !== root) around.push(node);
      node = next;
    }
    if (node === root) continue;
    current.add(mermaidId(node.path));
    for (const p of around) parents.add(mermaidId(p.path));
  }
  return { current: [...current], parents: [...parents].filter((id) => !current.has(id)) };
}
