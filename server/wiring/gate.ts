import type Router from '@koa/router';
import {
  drySender,
  liveSender,
  TELEGRAM_CHANNEL,
  telegramApi,
  telegramRunner,
} from '../channels/telegram/client';
import { TelegramPoller } from '../channels/telegram/poller';
import type { RenderOptions } from '../channels/telegram/render';
import { dryCallback, liveCallback, zadarmaRunner } from '../channels/zadarma/client';
import type { Config } from '../config/config';
import type { Engine } from '../engine/engine';
import type { Binding, EffectRunner } from '../engine/types';
import { Access } from '../gate/access';
import { gateCallBinding } from '../gate/call-binding';
import { telegramChatBinding } from '../gate/chat-binding';
import { handleUpdate, type UpdateDeps } from '../gate/chat-updates';
import { ivrCallBinding } from '../gate/ivr-binding';
import { accessRunner, gateRunner } from '../gate/runners';
import { telegramRoutes } from '../http/routes/telegram';
import { zadarmaRoutes } from '../http/routes/zadarma';
import { uk } from '../texts/uk';
import type { ChannelDeps } from './channel-deps';

/**
 * The gate deployment: the Telegram bot, the gate calls through Zadarma and the voice menu. Returns
 * its machines first (the engine needs them), then attaches runners, routes and the Telegram poller.
 */
export function gateChannel(config: Config, deps: ChannelDeps) {
  const { telegram, zadarma, gates } = config;
  const org = {
    name: gates.orgName,
    supportPhone: gates.supportPhone,
    info: {
      call: Boolean(gates.supportPhone),
      map: Boolean(gates.mapUrl),
      scheme: Boolean(gates.schemeImage),
    },
  };
  const render: RenderOptions = {
    org,
    timezone: config.timezone,
    mapUrl: gates.mapUrl,
    schemeImage: gates.schemeImage,
  };
  const bindings: Binding[] = [
    telegramChatBinding(render),
    gateCallBinding({ org }),
    ivrCallBinding({ org, sounds: gates.ivrSounds }),
  ];

  return {
    bindings,
    attach(engine: Engine) {
      const { log } = deps;
      const access = new Access(
        engine.store,
        {
          adminIds: telegram.adminIds,
          allowedUsers: telegram.allowedUsers,
          allowedPhones: gates.allowedPhones,
          clientsFile: gates.clientsFile,
        },
        log,
      );
      const runners: Record<string, EffectRunner> = {};
      const routers: Router[] = [];
      const api =
        telegram.mode === 'live' && telegram.token
          ? telegramApi(telegram.token, telegram.apiRoot)
          : undefined;
      const updateDeps: UpdateDeps = { engine, access, gates, zadarma, log };
      let poller: TelegramPoller | undefined;

      if (telegram.mode !== 'off') {
        runners[TELEGRAM_CHANNEL] = telegramRunner(api ? liveSender(api) : drySender(deps.print), log);
        runners.gate = gateRunner(engine, gates);
        runners.access = accessRunner(engine);
        if (!api || telegram.transport === 'webhook') {
          routers.push(
            telegramRoutes({ ...updateDeps, secret: telegram.webhookSecret, onRefused: deps.onRefused }),
          );
        }
        if (api && telegram.transport === 'polling')
          poller = new TelegramPoller(api, (u) => handleUpdate(u, updateDeps), log);
      }
      if (zadarma.mode !== 'off') {
        runners.gate ??= gateRunner(engine, gates);
        const send =
          zadarma.mode === 'live' && zadarma.apiKey && zadarma.apiSecret
            ? liveCallback(zadarma.baseUrl, zadarma.apiKey, zadarma.apiSecret)
            : dryCallback(deps.print);
        runners.zadarma = zadarmaRunner({
          send,
          caller: zadarma.caller ?? '',
          log,
          clock: deps.clock,
          markStarted: (effect) => engine.reschedule(effect),
        });
        routers.push(
          zadarmaRoutes({ engine, access, gates, secret: zadarma.apiSecret, log, onRefused: deps.onRefused }),
        );
      }

      return {
        runners,
        routers,
        access,
        /** Registers the bot's commands and starts long polling (live Telegram only). */
        async start(): Promise<void> {
          if (!api) return;
          try {
            if (telegram.transport === 'polling') await api.deleteWebhook({ drop_pending_updates: false });
            await api.setMyCommands({ commands: commandList(org.info) });
          } catch (e) {
            log.warn('telegram: could not register commands (will work without the menu)', {
              error: (e as Error).message,
            });
          }
          poller?.start();
        },
        async stop(): Promise<void> {
          await poller?.stop();
        },
      };
    },
  };
}

/** The bot's command menu: the optional info commands only when configured. */
export function commandList(info: { call: boolean; map: boolean; scheme: boolean }) {
  const names = ['start', 'hvirtka', 'vorota', 'status', 'help'] as Array<keyof typeof uk.commands>;
  if (info.call) names.push('call');
  if (info.map) names.push('map');
  if (info.scheme) names.push('scheme');
  return names.map((command) => ({ command, description: uk.commands[command] }));
}
