import type Router from '@koa/router';
import { WHATSAPP_CHANNEL, whatsappBinding, whatsappRunner } from '../channels/whatsapp/channel';
import { sendD360 } from '../channels/whatsapp/d360-client';
import { dryRunD360 } from '../channels/whatsapp/dry-run';
import { ShiftReminders } from '../channels/whatsapp/reminders';
import type { Config } from '../config/config';
import type { Engine } from '../engine/engine';
import type { Job } from '../engine/jobs';
import type { Binding, EffectRunner } from '../engine/types';
import { whatsappRoutes } from '../http/routes/whatsapp';
import type { ChannelDeps } from './channel-deps';

/** The WhatsApp attendance channel: its machine, its outbox runner, its webhook routes and the daily reminder. */
export function whatsappChannel(config: Config, deps: ChannelDeps) {
  const on = config.whatsapp.mode !== 'off';
  const { template, time } = config.reminders;
  return {
    bindings: [whatsappBinding({ template, log: deps.log })] as Binding[],
    attach(engine: Engine): { runners: Record<string, EffectRunner>; routers: Router[]; jobs: Job[] } {
      if (!on) return { runners: {}, routers: [], jobs: [] };
      const { apiKey, baseUrl } = config.whatsapp;
      const send =
        config.whatsapp.mode === 'live' && apiKey
          ? (body: Record<string, unknown>, signal?: AbortSignal) => sendD360(baseUrl, apiKey, body, signal)
          : dryRunD360(deps.print);
      return {
        runners: { [WHATSAPP_CHANNEL]: whatsappRunner({ engine, send, log: deps.log, clock: deps.clock }) },
        routers: [
          whatsappRoutes({
            engine,
            config: config.whatsapp,
            timezone: config.timezone,
            log: deps.log,
            onRefused: deps.onRefused,
          }),
        ],
        jobs: time
          ? [
              new ShiftReminders({
                engine,
                time,
                hasTemplate: template !== undefined,
                timezone: config.timezone,
                log: deps.log,
              }),
            ]
          : [],
      };
    },
  };
}
