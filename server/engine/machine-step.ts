import {
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type EventObject,
  initialTransition as xstateInitialTransition,
  transition as xstateTransition,
} from 'xstate';

/** An action as XState hands it to the executor: a type, resolved params, and XState's own fields. */
type ExecutableAction = { type: string; params?: unknown };

/**
 * XState's `transition()` / `initialTransition()` with one inert actor scope per machine instead of one
 * per call. XState builds that scope with `createActor(logic)`, whose constructor computes the machine's
 * whole initial state: that cost more CPU than the step itself (~6 % of the engine bench's CPU). The scope
 * does nothing (no defer, no emit, no logger), so reusing it is the same pure step, as long as the
 * machine has no child actors (their `systemId` would stay registered in the shared scope's system):
 * a machine that invokes anything, or a step that spawns a child, takes XState's own functions.
 */
interface Shared {
  scope: AnyActorScope;
  actions: ExecutableAction[];
}

const shared = new WeakMap<AnyStateMachine, Shared | null>();

function sharedOf(logic: AnyStateMachine): Shared | null {
  let s = shared.get(logic);
  if (s === undefined) {
    s = invokes(logic) ? null : makeShared(logic);
    shared.set(logic, s);
  }
  return s;
}

function invokes(logic: AnyStateMachine): boolean {
  const walk = (node: AnyStateMachine['root']): boolean =>
    node.invoke.length > 0 || Object.values(node.states).some(walk);
  return walk(logic.root);
}

/** The same scope as XState's `createInertActorScope`, its action executor collecting into `actions`. */
function makeShared(logic: AnyStateMachine): Shared {
  const self = createActor(logic);
  const s: Shared = { scope: undefined as unknown as AnyActorScope, actions: [] };
  s.scope = {
    self,
    defer: () => {},
    id: '',
    logger: () => {},
    sessionId: '',
    stopChild: () => {},
    system: self.system,
    emit: () => {},
    actionExecutor: (action: ExecutableAction) => {
      s.actions.push(action);
    },
  } as unknown as AnyActorScope;
  return s;
}

const hasChildren = (snapshot: AnyMachineSnapshot) => {
  for (const _ in snapshot.children) return true;
  return false;
};

/** `transition(logic, snapshot, event)` of XState: the next snapshot and the actions to execute. */
export function transition(
  logic: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: EventObject & Record<string, unknown>,
): [AnyMachineSnapshot, ExecutableAction[]] {
  const s = sharedOf(logic);
  if (s && !hasChildren(snapshot)) {
    s.actions = [];
    const next = logic.transition(snapshot, event, s.scope) as AnyMachineSnapshot;
    const actions = s.actions;
    s.actions = [];
    if (!hasChildren(next)) return [next, actions];
    shared.set(logic, null); // it spawns: from now on XState's own scope per call
  }
  return xstateTransition(logic, snapshot, event) as [AnyMachineSnapshot, ExecutableAction[]];
}

/** `initialTransition(logic, input)` of XState: the first snapshot and its entry actions. */
export function initialTransition(
  logic: AnyStateMachine,
  input: unknown,
): [AnyMachineSnapshot, ExecutableAction[]] {
  const s = sharedOf(logic);
  if (s) {
    s.actions = [];
    const first = logic.getInitialSnapshot(s.scope, input) as AnyMachineSnapshot;
    const actions = s.actions;
    s.actions = [];
    if (!hasChildren(first)) return [first, actions];
    shared.set(logic, null);
  }
  return xstateInitialTransition(logic, input) as [AnyMachineSnapshot, ExecutableAction[]];
}
