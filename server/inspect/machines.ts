import type { AnyStateNode } from 'xstate';
import { MACHINES, type MachineName } from '../../machines/index';
import { toMermaid } from './mermaid';

/** A registered machine as the inspector describes it. */
export interface MachineInfo {
  name: string;
  version: number;
  keyPrefix: string;
  description: string;
  /** Every state, as the engine labels them (`menu`, `call.pending`). */
  states: string[];
  finalStates: string[];
  /** The event types it handles (the playground's typed events). */
  events: string[];
  mermaid: string;
}

/** The registry with each machine's states and diagram (machines are static: computed once). */
export const machineInfo: () => MachineInfo[] = (() => {
  let cached: MachineInfo[] | undefined;
  return () => {
    cached ??= Object.values(MACHINES).map((m) => {
      const nodes = statesOf(m.logic.root as AnyStateNode);
      return {
        name: m.name,
        version: m.version,
        keyPrefix: m.keyPrefix,
        description: m.description,
        states: nodes.map((n) => n.path.join('.')),
        finalStates: nodes.filter((n) => n.type === 'final').map((n) => n.path.join('.')),
        events: [...m.logic.events],
        mermaid: toMermaid(m.logic),
      };
    });
    return cached;
  };
})();

/** Every state node under `node`, depth first. */
export function statesOf(node: AnyStateNode): AnyStateNode[] {
  return (Object.values(node.states) as AnyStateNode[]).flatMap((c) => [c, ...statesOf(c)]);
}

/**
 * `machine`'s diagram with `state` (a label as the engine writes it, `a.b` or `a.b,c.d`) highlighted;
 * undefined for an unknown machine or state.
 */
export function highlightedDiagram(machine: string, state: string): string | undefined {
  const info = machineInfo().find((m) => m.name === machine);
  if (!info || !state.split(',').every((s) => info.states.includes(s))) return undefined;
  return toMermaid(MACHINES[machine as MachineName].logic, { highlight: state });
}
