import type { AnyStateMachine } from 'xstate';
import { ADMIN_ALERTS_VERSION, adminAlertsEffects, adminAlertsMachine } from './admin-alerts';
import { GATE_CALL_MIGRATIONS, GATE_CALL_VERSION, gateCallEffects, gateCallMachine } from './gate-call';
import { IVR_CALL_VERSION, ivrCallEffects, ivrCallMachine } from './ivr-call';
import type { Migrations } from './migrations';
import {
  TELEGRAM_CHAT_MIGRATIONS,
  TELEGRAM_CHAT_VERSION,
  telegramChatEffects,
  telegramChatMachine,
} from './telegram-chat';
import {
  WHATSAPP_MENU_MIGRATIONS,
  WHATSAPP_MENU_VERSION,
  whatsappMenuEffects,
  whatsappMenuMachine,
} from './whatsapp-menu';

/** A machine as the rest of the system knows it: the engine, the inspector and the diagram export. */
export interface MachineEntry {
  name: string;
  version: number;
  /** Actor keys of this machine start with it. */
  keyPrefix: string;
  description: string;
  logic: AnyStateMachine;
  /** The actions it asks the server to carry out (`machines/effects.ts`); its binding has one handler each. */
  effects: Readonly<Record<string, (args: never, params: never) => void>>;
  /** How stored snapshots of earlier versions become this one: version → migration to the next. */
  migrations?: Migrations;
}

/** Every machine, by name. */
export const MACHINES = {
  'whatsapp-menu': {
    name: 'whatsapp-menu',
    version: WHATSAPP_MENU_VERSION,
    keyPrefix: 'wa:',
    description: 'WhatsApp shift attendance: one actor per employee',
    logic: whatsappMenuMachine,
    effects: whatsappMenuEffects,
    migrations: WHATSAPP_MENU_MIGRATIONS,
  },
  'telegram-chat': {
    name: 'telegram-chat',
    version: TELEGRAM_CHAT_VERSION,
    keyPrefix: 'tg:',
    description: 'Gate bot conversation: one actor per Telegram user',
    logic: telegramChatMachine,
    effects: telegramChatEffects,
    migrations: TELEGRAM_CHAT_MIGRATIONS,
  },
  'gate-call': {
    name: 'gate-call',
    version: GATE_CALL_VERSION,
    keyPrefix: 'call:',
    description: 'One gate opening by a Zadarma callback',
    logic: gateCallMachine,
    effects: gateCallEffects,
    migrations: GATE_CALL_MIGRATIONS,
  },
  'ivr-call': {
    name: 'ivr-call',
    version: IVR_CALL_VERSION,
    keyPrefix: 'ivr:',
    description: 'One outside call in the voice menu',
    logic: ivrCallMachine,
    effects: ivrCallEffects,
  },
  'admin-alerts': {
    name: 'admin-alerts',
    version: ADMIN_ALERTS_VERSION,
    keyPrefix: 'alerts:',
    description: 'Admin alerts: one actor (alerts:admin) that deduplicates and rate-limits them',
    logic: adminAlertsMachine,
    effects: adminAlertsEffects,
  },
} as const satisfies Record<string, MachineEntry>;

export type MachineName = keyof typeof MACHINES;
