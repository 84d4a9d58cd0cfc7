/**
 * What the compiler refuses in a binding or a machine (checked by `tsc`, which CI runs over test/):
 * each `@ts-expect-error` below fails the type check when the line under it compiles, so a binding
 * that may misspell an action, skip one, take other params, read an undeclared event field or reach
 * into the store would break the build. The functions are never called. The uvu tests at the end
 * check at run time what the types cannot see (a handler list assembled dynamically).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setup } from 'xstate';
import type { AdminAlertsActions } from '../machines/admin-alerts';
import type { GateCallActions, GateCallEvent } from '../machines/gate-call';
import { MACHINES, type MachineName } from '../machines/index';
import { type IvrCallActions, ivrCallEffects } from '../machines/ivr-call';
import type { TelegramChatActions } from '../machines/telegram-chat';
import type { WhatsAppMenuActions } from '../machines/whatsapp-menu';
import { type ActionHandlers, defineBinding } from '../server/engine/define-binding';

const noop = () => {};

export function misspelledAction() {
  defineBinding(MACHINES['ivr-call'], {
    actions: {
      answer: noop,
      openGate: noop,
      // @ts-expect-error the machine has no action `opengate`
      opengate: noop,
    },
  });
}

export function missingHandler() {
  defineBinding(MACHINES['ivr-call'], {
    // @ts-expect-error `openGate` has no handler
    actions: { answer: noop },
  });
}

export function wrongParamsType() {
  defineBinding(MACHINES['ivr-call'], {
    actions: {
      // @ts-expect-error `answer` takes AnswerParams, whose prompt is a word
      answer(_p: { prompt: number }) {},
      openGate: noop,
    },
  });
}

export function undeclaredParam() {
  defineBinding(MACHINES['ivr-call'], {
    actions: {
      answer: noop,
      openGate(p, _step, plan) {
        // @ts-expect-error openGate's params are { gate, caller }: no `chatId`
        plan.effects.push({ channel: 'gate', payload: { chatId: p.chatId } });
      },
    },
  });
}

export function undeclaredEventField() {
  defineBinding(MACHINES['gate-call'], {
    actions: {
      requestCallback(_p, { event }) {
        // @ts-expect-error only REQUEST declares askedAt: the event must be narrowed first
        void event.askedAt;
        if (event.type === 'REQUEST') void event.askedAt;
        // @ts-expect-error no gate-call event declares `userName`
        if (event.type === 'REQUEST') void event.userName;
      },
      notify: noop,
      alertAdmins: noop,
      claimGate: noop,
      releaseGate: noop,
    },
  });
}

export function noStore() {
  defineBinding(MACHINES['gate-call'], {
    actions: {
      requestCallback: noop,
      notify(_p, step) {
        // @ts-expect-error a binding does not get the store: what it needs comes in its event
        void step.store;
      },
      alertAdmins: noop,
      claimGate: noop,
      releaseGate: noop,
    },
  });
}

export function typedContext() {
  defineBinding(MACHINES['gate-call'], {
    actions: {
      requestCallback: noop,
      notify(_p, { after }) {
        const relay: string = after.context.relay;
        // @ts-expect-error the call's context has no `phone`
        void after.context.phone;
        void relay;
      },
      alertAdmins: noop,
      claimGate: noop,
      releaseGate: noop,
    },
  });
}

export function eventBuilders(): GateCallEvent[] {
  const base = {
    now: 0,
    gate: 'vorota',
    relay: '380',
    source: 'telegram',
    busy: false,
    timeoutMs: 1,
  } as const;
  return [
    { type: 'REQUEST', ...base, askedAt: 0 },
    // @ts-expect-error a field no REQUEST declares
    { type: 'REQUEST', ...base, asked: 0 },
  ];
}

export function machineEmitsOnlyDeclaredEffects() {
  const m = setup({ actions: { ...ivrCallEffects } });
  m.createMachine({
    // @ts-expect-error the effects declare no `hangUp`
    entry: { type: 'hangUp' },
  });
  m.createMachine({
    // @ts-expect-error openGate's gate is vorota or hvirtka
    entry: { type: 'openGate', params: { gate: 'garage', caller: '380' } },
  });
  m.createMachine({ entry: { type: 'openGate', params: { gate: 'vorota', caller: '380' } } });
}

/** The params each handler of machine M is given, by action name. */
type HandlerParams<M extends MachineName> = {
  [K in keyof (typeof MACHINES)[M]['effects']]: Parameters<
    ActionHandlers<(typeof MACHINES)[M]['logic'], (typeof MACHINES)[M]['effects']>[K]
  >[0];
};
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export const handlersTakeTheDeclaredParams: [
  Same<HandlerParams<'whatsapp-menu'>, WhatsAppMenuActions>,
  Same<HandlerParams<'telegram-chat'>, TelegramChatActions>,
  Same<HandlerParams<'gate-call'>, GateCallActions>,
  Same<HandlerParams<'ivr-call'>, IvrCallActions>,
  Same<HandlerParams<'admin-alerts'>, AdminAlertsActions>,
] = [true, true, true, true, true];
// @ts-expect-error one machine's map is not another's
export const mapsDiffer: Same<HandlerParams<'ivr-call'>, TelegramChatActions> = true;

export function actionMapOfTheMachine(): GateCallActions['claimGate'] {
  // @ts-expect-error claimGate's params are { gate: string }
  return { gate: 1 };
}

test('defineBinding refuses, at start-up too, handlers that are not the machine’s effects', () => {
  const handlers: Record<string, () => void> = { answer: noop, opengate: noop };
  assert.throws(
    // A handler list built at run time escapes the compiler: the helper checks it when it is built.
    () => defineBinding(MACHINES['ivr-call'], { actions: handlers as never }),
    /ivr-call: the handlers \(answer,opengate\) are not the machine's effects \(answer,openGate\)/,
  );
});

test('an action without a handler stops the step instead of being dropped', () => {
  const binding = defineBinding(MACHINES['ivr-call'], { actions: { answer: noop, openGate: noop } });
  const step = {
    key: 'ivr:1',
    now: 0,
    event: { type: 'CALL_END', now: 0 },
    after: { state: 'ended', done: true, context: {} },
  };
  assert.throws(
    () => binding.interpret([{ type: 'hangUp', params: {} }], step),
    /ivr-call: no handler for the action hangUp/,
  );
  assert.equal(binding.handles, ['answer', 'openGate']);
});

test.run();
