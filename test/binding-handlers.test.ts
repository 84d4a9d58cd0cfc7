/**
 * Every action a machine can emit has a handler in its binding, and a binding handles nothing else.
 * Three views of "can emit": the machine's definition (every action named in its states' entry, exit
 * and transitions), its setup (every implementation that is not one of XState's own), and what it does
 * (the model paths of test/helpers/model.ts, each step's actions run through the real binding).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyStateMachine } from 'xstate';
import { MACHINES, type MachineName } from '../machines/index';
import { adminAlertsBinding } from '../server/alerts/binding';
import { whatsappBinding } from '../server/channels/whatsapp/channel';
import { stateLabel } from '../server/engine/engine';
import type { Binding, MachineEvent } from '../server/engine/types';
import { gateCallBinding } from '../server/gate/call-binding';
import { telegramChatBinding } from '../server/gate/chat-binding';
import { ivrCallBinding } from '../server/gate/ivr-binding';
import { memoryLogger } from '../server/lib/log';
import type { Org } from '../server/texts/uk';
import { generatePaths, MODELS, replay, uniquePaths } from './helpers/model';

const org: Org = { name: 'Test', info: { call: false, map: false, scheme: false } };

const BINDINGS: Record<MachineName, { binding: Binding; key: string }> = {
  'whatsapp-menu': { binding: whatsappBinding(), key: 'wa:380501112233' },
  'telegram-chat': { binding: telegramChatBinding({ org, timezone: 'Europe/Kyiv' }), key: 'tg:5101' },
  'gate-call': { binding: gateCallBinding({ org }), key: 'call:vorota:1' },
  'ivr-call': { binding: ivrCallBinding({ org, sounds: {} }), key: 'ivr:1' },
  'admin-alerts': {
    binding: adminAlertsBinding({
      adminIds: [9101],
      telegram: true,
      timezone: 'Europe/Kyiv',
      log: memoryLogger(),
    }),
    key: 'alerts:admin',
  },
};

const names = Object.keys(MACHINES) as MachineName[];
const sorted = (xs: Iterable<string>) => [...xs].sort();
const isBuiltIn = (impl: unknown) =>
  typeof impl === 'function' && String((impl as { type?: unknown }).type ?? '').startsWith('xstate.');

/** The action names a machine's definition refers to (its own assign/raise… included). */
function namedActions(logic: AnyStateMachine): Set<string> {
  const out = new Set<string>();
  const add = (actions: readonly unknown[]) => {
    for (const a of actions) {
      if (typeof a === 'string') out.add(a);
      else if (a && typeof a === 'object' && typeof (a as { type?: unknown }).type === 'string')
        out.add((a as { type: string }).type);
      // A function is an inline action (assign(…), raise(…)): XState's own, never handed out.
    }
  };
  const walk = (node: AnyStateMachine['root']) => {
    add(node.entry);
    add(node.exit);
    for (const list of node.transitions.values()) for (const t of list) add(t.actions);
    for (const t of node.always ?? []) add(t.actions);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(logic.root);
  return out;
}

for (const name of names) {
  const machine = MACHINES[name];
  const { binding } = BINDINGS[name];
  const effects = sorted(Object.keys(machine.effects));

  test(`${name}: the binding has one handler per declared effect`, () => {
    assert.ok(binding.handles, 'made with defineBinding');
    assert.equal(sorted(binding.handles ?? []), effects);
  });

  test(`${name}: every action its setup implements is a declared effect or XState's own`, () => {
    const impls = machine.logic.implementations.actions as Record<string, unknown>;
    const declared = machine.effects as Record<string, unknown>;
    for (const [action, impl] of Object.entries(impls)) {
      if (isBuiltIn(impl)) continue;
      assert.ok(action in declared, `${action} is emitted but not declared in the effects`);
      assert.is(impl, declared[action], `${action} is the declared effect itself`);
    }
    for (const effect of effects) assert.ok(effect in impls, `${effect} is declared but not in the setup`);
  });

  test(`${name}: every action its states name is handled or XState's own`, () => {
    const impls = machine.logic.implementations.actions as Record<string, unknown>;
    for (const action of namedActions(machine.logic)) {
      if (action.startsWith('xstate.') || isBuiltIn(impls[action])) continue;
      assert.ok(binding.handles?.includes(action), `${action} has no handler`);
    }
  });

  test(`${name}: the binding carries out every action of the model paths`, () => {
    const model = MODELS[name];
    const { shortest, simple } = generatePaths(model);
    const seen = new Set<string>();
    for (const path of uniquePaths([...shortest, ...simple])) {
      for (const step of replay(model, path)) {
        for (const a of step.actions) seen.add(a.type);
        const plan = binding.interpret(
          step.actions.map((a) => ({ type: a.type, params: a.params })),
          {
            key: BINDINGS[name].key,
            now: step.event.now as number,
            event: step.event as MachineEvent,
            after: {
              state: stateLabel(step.after),
              done: step.after.status === 'done',
              context: step.after.context as Record<string, unknown>,
            },
          },
        );
        assert.ok(Array.isArray(plan.effects) && Array.isArray(plan.writes));
      }
    }
    // Every declared effect is emitted somewhere (named in a state, or seen on a path: the alerts
    // actor's `notify` is enqueued by code), so no handler is dead code.
    const named = namedActions(machine.logic);
    for (const effect of effects)
      assert.ok(named.has(effect) || seen.has(effect), `${effect} is declared but never emitted`);
  });
}

test.run();
