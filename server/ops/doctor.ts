/**
 * `npm run doctor`: the settings as the service reads them, the data folder, and each platform with the
 * configured credentials. One CheckResult per line; every check runs (the platforms in parallel).
 */
import { type CheckResult, skip } from './check';
import { settingsChecks } from './doctor-settings';
import { storeChecks } from './doctor-store';
import { telegramChecks } from './doctor-telegram';
import { whatsappChecks } from './doctor-whatsapp';
import { zadarmaChecks } from './doctor-zadarma';

export async function runDoctor(env: Record<string, string | undefined>): Promise<CheckResult[]> {
  const settings = settingsChecks(env);
  const config = settings.config;
  const notChecked = (name: string) => Promise.resolve([skip(name, 'not checked: the settings are invalid')]);
  const groups = await Promise.all([
    storeChecks(settings.dataDir),
    config ? whatsappChecks(config) : notChecked('whatsapp API'),
    config ? telegramChecks(config) : notChecked('telegram API'),
    config ? zadarmaChecks(config) : notChecked('zadarma API'),
  ]);
  return [...settings.results, ...groups.flat()];
}
