import type { AnyStateMachine, ContextFrom, EventFromLogic } from 'xstate';
import type { Binding, Plan, StepContext } from './types';

/**
 * A machine as its registry lists it (`machines/index.ts`): the logic and the declaration of its
 * effects (`machines/effects.ts`: action name → a do-nothing implementation typed by its params).
 */
interface MachineWithEffects<L extends AnyStateMachine, F> {
  name: string;
  version: number;
  keyPrefix: string;
  logic: L;
  effects: F;
}

/** The params of each declared effect. */
type ParamsOf<F> = { [K in keyof F]: F[K] extends (args: never, params: infer P) => void ? P : never };

/** One step as a machine's binding sees it: the machine's own event and context types. */
export type StepOf<L extends AnyStateMachine> = StepContext<EventFromLogic<L>, ContextFrom<L>>;

/** One handler per effect of the machine, each given that effect's params; it adds to the plan. */
export type ActionHandlers<L extends AnyStateMachine, F> = {
  [K in keyof F]: (params: ParamsOf<F>[K], step: StepOf<L>, plan: Plan) => void;
};

/** What a binding adds to its machine: the handlers, and the engine's options (partition, input…). */
type BindingSpec<L extends AnyStateMachine, F> = Partial<
  Omit<Binding, keyof MachineWithEffects<L, F> | 'interpret' | 'handles'>
> & {
  actions: ActionHandlers<L, F>;
  /** Runs after the handlers at every step (e.g. a domain record rewritten from the context). */
  everyStep?: (step: StepOf<L>, plan: Plan) => void;
};

/**
 * A binding declared against its machine's effects: `interpret` calls the handler named by each
 * action. A missing handler, a name the machine does not declare or a handler that takes other params
 * is a compile error, so no binding matches action names as strings or casts params.
 *
 *   defineBinding(MACHINES['ivr-call'], {
 *     actions: {
 *       answer(p, _step, plan) { plan.response = renderIvr(p, deps); },
 *       openGate({ gate, caller }, _step, plan) {
 *         plan.effects.push({ channel: 'gate', payload: { gate, source: 'ivr', caller } });
 *       },
 *     },
 *   });
 */
export function defineBinding<L extends AnyStateMachine, F extends object>(
  machine: MachineWithEffects<L, F>,
  spec: BindingSpec<L, F>,
): Binding {
  const { actions, everyStep, ...options } = spec;
  const handles = Object.keys(actions);
  const declared = Object.keys(machine.effects);
  if (handles.length !== declared.length || !declared.every((name) => handles.includes(name)))
    throw new Error(`${machine.name}: the handlers (${handles}) are not the machine's effects (${declared})`);
  // The one place where the engine's untyped actions meet the typed handlers. The engine steps only
  // this binding's machine, so each action is one the machine's setup declares (with its params), and
  // the event and the context are the machine's own; an action without a handler stops the step.
  const handlerOf = new Map(
    Object.entries(actions) as Array<[string, (params: unknown, step: StepOf<L>, plan: Plan) => void]>,
  );
  return {
    ...machine,
    ...options,
    handles,
    interpret(emitted, ctx) {
      const step = ctx as StepOf<L>;
      const plan: Plan = { effects: [], writes: [] };
      for (const a of emitted) {
        const handle = handlerOf.get(a.type);
        if (!handle) throw new Error(`${machine.name}: no handler for the action ${a.type}`);
        handle(a.params, step, plan);
      }
      everyStep?.(step, plan);
      return plan;
    },
  };
}
