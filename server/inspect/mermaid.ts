import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * A machine's definition as a Mermaid `stateDiagram-v2`, so its picture can never drift from the code:
 * nested (and parallel) states, `[*]` for initial and final states, every transition labelled with its
 * event and named guard (`EVENT [guard]`; an inline guard reads `guarded`), `always` and `after 30s`
 * spelt out instead of XState's internal event names.
 *
 * Two concessions to how Mermaid draws: transitions between the same two states share one edge (one
 * label line each; Mermaid would otherwise drop all but one), and transitions defined on a compound
 * state, which apply in any of its states, leave a dashed pseudo-state "any state" inside it (Mermaid
 * cannot draw an edge from a composite state to itself or into it). A targetless transition (it runs
 * actions and stays) is drawn as a loop.
 */
export interface MermaidOptions {
  /** States to mark as current, as the engine labels them: `askingPeriod`, `call.pending`. */
  highlight?: string | readonly string[];
}

const ANY = '__any';
const GUARD_FALLBACK = 'guarded';

/** The Mermaid id of the state at `path` (keys from the root); unique across nesting levels. */
export function mermaidId(path: readonly string[]): string {
  return path.map((k) => k.replace(/[^A-Za-z0-9_]/g, '_')).join('__') || 'root';
}

export function toMermaid(machine: AnyStateMachine, opts: MermaidOptions = {}): string {
  const root = machine.root as AnyStateNode;
  const edges = new Map<string, Edge[]>();
  const anyStates: string[] = [];
  collectEdges(root, edges, anyStates);
  const lines = ['stateDiagram-v2'];
  writeBlock(root, '  ', lines, scopedEdges(edges), new Set(anyStates));
  if (anyStates.length > 0) {
    lines.push('  classDef anyState fill:#f4f4f4,stroke:#999,stroke-dasharray:4 3,font-style:italic');
    lines.push(`  class ${anyStates.join(',')} anyState`);
  }
  const current = highlighted(root, opts.highlight);
  if (current.length > 0) {
    lines.push('  classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px,font-weight:bold');
    lines.push(`  class ${current.join(',')} current`);
  }
  return `${lines.join('\n')}\n`;
}

/** One end of an edge: its Mermaid id and the block (path of the compound state) it is drawn in. */
interface End {
  id: string;
  block: readonly string[];
}

interface Edge {
  from: End;
  to: End;
  label: string;
}

const stateEnd = (s: AnyStateNode): End => ({ id: mermaidId(s.path), block: s.path.slice(0, -1) });
const anyEnd = (s: AnyStateNode): End => ({ id: `${mermaidId(s.path)}${ANY}`, block: s.path });
const isCompound = (s: AnyStateNode) => Object.keys(s.states).length > 0;

/** Every transition of the machine, keyed by `from to`: edges between the same two states are merged. */
function collectEdges(node: AnyStateNode, edges: Map<string, Edge[]>, anyStates: string[]): void {
  const add = (e: Edge) => {
    const k = `${e.from.id} ${e.to.id}`;
    edges.set(k, [...(edges.get(k) ?? []), e]);
  };
  if (isCompound(node)) {
    // The node's own transitions apply in any of its states: drawn from its "any state" pseudo-state.
    const own = transitionsOf(node, anyEnd(node));
    if (own.length > 0) anyStates.push(anyEnd(node).id);
    own.forEach(add);
    for (const child of Object.values(node.states) as AnyStateNode[]) collectEdges(child, edges, anyStates);
  } else transitionsOf(node, stateEnd(node)).forEach(add);
  if (node.type === 'final')
    add({ from: stateEnd(node), to: { id: '[*]', block: node.path.slice(0, -1) }, label: '' });
}

/** One edge per transition target (a targetless transition loops back to `from`). */
function transitionsOf(node: AnyStateNode, from: End): Edge[] {
  const edges: Edge[] = [];
  const add = (t: { target?: ReadonlyArray<AnyStateNode> | undefined; guard?: unknown }, event: string) => {
    const label = t.guard === undefined ? event : `${event} [${guardName(t.guard)}]`;
    const targets = t.target && t.target.length > 0 ? t.target.map(stateEnd) : [from];
    for (const to of targets) edges.push({ from, to, label });
  };
  const delays = new Map<string, unknown>();
  for (const d of node.after ?? []) delays.set(String(d.eventType), d.delay);
  for (const [eventType, transitions] of node.transitions as Map<string, AnyStateNode['always']>) {
    const event = delays.has(eventType) ? `after ${delayText(delays.get(eventType))}` : eventName(eventType);
    for (const t of transitions ?? []) add(t, event);
  }
  for (const t of node.always ?? []) add(t, 'always');
  return edges;
}

/**
 * Edge lines by the block they must be written in: the innermost one holding both ends (Mermaid
 * moves a state into the block where an edge names it).
 */
function scopedEdges(edges: Map<string, Edge[]>): Map<string, string[]> {
  const byBlock = new Map<string, string[]>();
  for (const group of edges.values()) {
    const { from, to } = group[0] as Edge;
    const block: string[] = [];
    for (let i = 0; i < Math.min(from.block.length, to.block.length) && from.block[i] === to.block[i]; i++)
      block.push(from.block[i] as string);
    const text = group
      .map((e) => e.label)
      .filter(Boolean)
      .join('<br/>');
    const k = block.join('.');
    byBlock.set(k, [...(byBlock.get(k) ?? []), `${from.id} --> ${to.id}${text ? ` : ${text}` : ''}`]);
  }
  return byBlock;
}

/** A compound state's contents: names, initial marker, nested blocks, its pseudo-state, its edges. */
function writeBlock(
  node: AnyStateNode,
  indent: string,
  out: string[],
  edges: Map<string, string[]>,
  anyStates: Set<string>,
): void {
  const children = Object.values(node.states) as AnyStateNode[];
  for (const child of children) {
    const id = mermaidId(child.path);
    if (id !== child.key) out.push(`${indent}state "${label(child.key)}" as ${id}`);
    if (child.type === 'history') out.push(`${indent}note right of ${id} : history (${child.history})`);
  }
  if (node.type !== 'parallel') {
    for (const t of node.initial?.target ?? []) out.push(`${indent}[*] --> ${mermaidId(t.path)}`);
  }
  children.forEach((child, i) => {
    if (node.type === 'parallel' && i > 0) out.push(`${indent}--`);
    if (isCompound(child)) {
      out.push(`${indent}state ${mermaidId(child.path)} {`);
      writeBlock(child, `${indent}  `, out, edges, anyStates);
      out.push(`${indent}}`);
    }
  });
  if (anyStates.has(anyEnd(node).id)) out.push(`${indent}state "any state" as ${anyEnd(node).id}`);
  for (const line of edges.get(node.path.join('.')) ?? []) out.push(`${indent}${line}`);
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

/** Mermaid ids of the states named, when they exist in this machine (the innermost state of each). */
function highlighted(root: AnyStateNode, highlight: MermaidOptions['highlight']): string[] {
  const names = typeof highlight === 'string' ? highlight.split(',') : (highlight ?? []);
  const ids = new Set<string>();
  for (const name of names) {
    let node: AnyStateNode | undefined = root;
    for (const key of name.trim().split('.').filter(Boolean)) {
      const next = node?.states[key] as AnyStateNode | undefined;
      if (!next) break;
      node = next;
    }
    if (node && node !== root) ids.add(mermaidId(node.path));
  }
  return [...ids];
}
