import type { CallStatus } from '../../machines/gate-call';
import type { GateOutcome } from '../../machines/gate-outcome';
import type { IvrPrompt } from '../../machines/ivr-call';
import type { CallLine, GateName, Stats } from '../../machines/telegram-chat';

/**
 * Every text a gate user reads or hears (Ukrainian): the Telegram bot and the voice menu. Wording
 * follows the old bot; the organisation and support phone come from ORG_NAME / SUPPORT_PHONE.
 */
export interface Org {
  name: string;
  supportPhone?: string;
  /** Which optional info commands are configured. */
  info: { call: boolean; map: boolean; scheme: boolean };
}

const support = (org: Org) => (org.supportPhone ? `\n\n📞 Підтримка: ${org.supportPhone}` : '');
const the = { hvirtka: 'хвіртки', vorota: 'воріт' } satisfies Record<GateName, string>;
const nominative = { hvirtka: 'Хвіртка', vorota: 'Ворота' } satisfies Record<GateName, string>;
const gateName = (g: string) => (g === 'vorota' ? 'vorota' : 'hvirtka') as GateName;

function actions(org: Org): string {
  const lines = [
    '🚪 /hvirtka - відкрити хвіртку для пішого проходу',
    '🏠 /vorota - відкрити ворота для авто',
  ];
  if (org.info.call) lines.push('📞 /call - зателефонувати нам');
  if (org.info.map) lines.push('🗺️ /map - розташування на мапі');
  if (org.info.scheme) lines.push('📋 /scheme - схема проходу');
  lines.push('📊 /status - ваші останні відкриття', '❓ /help - довідка');
  return lines.join('\n');
}

const adminLines =
  '\n\n🔧 Адміністратору:\n/allow <телефон> - дозволити номер\n/revoke <телефон> - заборонити номер\n/stats - статистика відкриттів';

export const uk = {
  buttons: {
    shareContact: '📱 Поділитися номером',
    hvirtka: '🚪 Відкрити хвіртку',
    vorota: '🏠 Відкрити ворота',
  },
  commands: {
    start: 'Почати',
    hvirtka: 'Відкрити хвіртку',
    vorota: 'Відкрити ворота',
    status: 'Мої останні відкриття',
    help: 'Довідка',
    call: 'Зателефонувати нам',
    map: 'Розташування на мапі',
    scheme: 'Схема проходу',
  },
  welcomeMember: (org: Org, firstName: string, admin: boolean) =>
    `🎉 Вітаємо, ${firstName}!\n\n✅ Ви авторизовані в системі ${org.name}\n\n🔓 Доступні дії:\n${actions(org)}${admin ? adminLines : ''}`,
  welcomeGuest: (org: Org, firstName: string) =>
    `👋 Вітаємо, ${firstName}!\n\n❌ Ви не авторизовані в системі ${org.name}\n\n📱 Для авторизації натисніть кнопку «📱 Поділитися номером» нижче 👇`,
  helpMember: (org: Org, admin: boolean) =>
    `🤖 ДОВІДКА\n\n🔓 Доступні дії:\n${actions(org)}\n\n💡 При проблемах з відкриттям спробуйте ще раз.${support(org)}${admin ? adminLines : ''}`,
  helpGuest: (org: Org) =>
    `🤖 ДОВІДКА\n\n❌ Ви не авторизовані в системі\n\n📱 Для авторизації:\n1. Натисніть /start\n2. Поділіться номером телефону\n3. Дочекайтеся підтвердження доступу${support(org)}`,
  contactForeign:
    '⚠️ Можна поділитися лише власним номером. Натисніть кнопку «📱 Поділитися номером», а не пересилайте чужий контакт.',
  contactAccepted: (org: Org, firstName: string) =>
    `🎉 Вітаємо, ${firstName}!\n\n✅ Ви авторизовані в системі ${org.name}\n\n🔓 Доступні дії:\n${actions(org)}`,
  contactRefused: (org: Org, firstName: string) =>
    `⚠️ Доступ обмежено, ${firstName}!\n\n❌ Ваш номер не зареєстровано в системі ${org.name}${org.supportPhone ? `\n\n📞 Для реєстрації зверніться: ${org.supportPhone}` : ''}`,
  denied: '❌ Доступ заборонено! Спочатку авторизуйтеся через /start',
  cooldown: (seconds: number) => `⏳ Зачекайте ${seconds} ${secondsWord(seconds)} перед наступним дзвінком`,
  alreadyOpening: (gate: string) =>
    `⏳ Відкриття ${the[gateName(gate)]} вже триває. Зачекайте на результат, будь ласка.`,
  keys: (gate: string) => (gateName(gate) === 'vorota' ? '🚪 Підбираємо ключі…' : '🔑 Підбираємо ключі…'),
  gatesOff: (org: Org) => `⚠️ Відкриття зараз недоступне.${support(org)}`,
  initiated: (gate: string) =>
    gateName(gate) === 'vorota'
      ? 'Відкриття воріт ініційовано... 🌆 Очікуйте, будь ласка, світловий сигнал.\n\n⏳ Це може зайняти до 30 секунд.'
      : 'Відкриття хвіртки ініційовано... 📢 Очікуйте, будь ласка, звуковий сигнал.\n\n⏳ Це може зайняти до 30 секунд.',
  apiFailed: (org: Org, message: string) =>
    `❌ Не вдалося ініціювати дзвінок.\n\nПомилка: ${message}\n\nСпробуйте ще раз${org.supportPhone ? ` або зателефонуйте нам: ${org.supportPhone}` : ''}`,
  outcome: (org: Org, outcome: GateOutcome, gate: string, disposition?: string): string => {
    switch (outcome) {
      case 'opened':
        return `✅ ${nominative[gateName(gate)]} відчинено!`;
      case 'busy':
        return '❌ Номер зайнятий. Спробуйте ще раз.';
      case 'noAnswer':
        return '❌ Номер не відповідає.';
      case 'misconfigured':
        return `⚠️ Дзвінок для відкриття ${the[gateName(gate)]} було прийнято, а не скинуто: система потребує перевірки. Зверніться до підтримки.${support(org)}`;
      case 'failed':
        return `❌ Не вдалося відкрити. Статус: ${disposition || 'невідомий'}`;
    }
  },
  timeout: (org: Org, gate: string) =>
    `⏰ Статус відкриття ${the[gateName(gate)]} не визначено. Спробуйте ще раз або перевірте фізично.${support(org)}`,
  status: (calls: CallLine[], tz: string) =>
    calls.length === 0
      ? '📊 Ви ще не відкривали хвіртку чи ворота.'
      : `📊 Ваші останні відкриття:\n${calls
          .map((c) => `${formatTime(c.at, tz)} — ${nominative[gateName(c.gate)]}: ${outcomeWord(c.outcome)}`)
          .join('\n')}`,
  info: {
    call: (org: Org) => `📞 Телефон: ${org.supportPhone ?? ''}`,
    map: (url: string) => `🗺️ Ми на мапі: ${url}`,
    scheme: '📋 Схема проходу',
  },
  zadarmaUnreachable: (reason: string) => `сервіс дзвінків недоступний (${reason})`,
  staleRequest: 'запит застарів (сервер перезапускався)',
  interruptedRequest:
    'сервер перезапустився під час запиту, тож невідомо, чи пішов дзвінок; перевірте ворота або спробуйте ще раз',
  adminOnly: '❌ Ця команда доступна тільки адміністратору',
  access: (phone: string, allowed: boolean) =>
    allowed ? `✅ Номер +${phone} дозволено.` : `🚫 Номер +${phone} заборонено. Діє з наступної команди.`,
  badPhone: '❌ Вкажіть номер телефону, наприклад: /allow 0501112233',
  stats: (s: Stats) =>
    `📈 Відкриття\n\nЗа 24 години:\n${statLines(s.day)}\n\nЗа 7 днів:\n${statLines(s.week)}`,
  unknown: (member: boolean) =>
    member
      ? '🤔 Не зрозумів. Скористайтеся /hvirtka, /vorota або /help.'
      : '🤔 Не зрозумів. Почніть з /start.',
  admin: {
    misconfigured: (gate: string, relay: string) =>
      `🚨 ПРОБЛЕМА: дзвінок на ${the[gateName(gate)]} (${relay}) було ПРИЙНЯТО замість скидання! Перевірте налаштування реле.`,
    apiFailed: (gate: string, message: string) =>
      `🔧 ADMIN: помилка дзвінка на ${the[gateName(gate)]}: ${message}`,
  },
  /** Admin alerts (machines/admin-alerts.ts): what went wrong, held-back counts, recoveries. */
  alerts: {
    relayRecovered: (gate: string, relay: string) =>
      `✅ Реле ${the[gateName(gate)]} (${relay}) працює знову: дзвінок скинуто, як належить.`,
    apiRecovered: '✅ Zadarma API працює знову: дзвінок замовлено.',
    balanceLow: (balance: string, threshold: string) =>
      `💸 Баланс Zadarma ${balance} — нижче порогу ${threshold}. Поповніть рахунок, інакше дзвінки на ворота не пройдуть.`,
    balanceRecovered: (balance: string) =>
      `✅ Баланс Zadarma знову вище порогу: ${balance}. Дзвінки працюють знову.`,
    deadLetter: (channel: string, key: string, error: string) =>
      `📭 Повідомлення не доставлено (канал ${channel}, ${key}): ${error}. Воно лежить у dead letters.`,
    webhookProbe: (route: string, count: number, minutes: number) =>
      `🕵️ ${route}: ${count} запитів з неправильним підписом або секретом за ${minutes} хв. Можливо, хтось перебирає.`,
    webhookQuiet: (route: string) => `✅ ${route}: годину тихо, запити з неправильним підписом припинилися.`,
    /** What a summary is about (one per kind). */
    titles: {
      relayAnswered: (gate: string) => `Реле ${the[gateName(gate)]} приймає дзвінки`,
      zadarmaApi: 'Помилки Zadarma API',
      zadarmaBalance: 'Низький баланс Zadarma',
      deadLetter: (channel: string) => `Недоставлені повідомлення (${channel})`,
      webhookAuth: (route: string) => `Запити з неправильним підписом на ${route}`,
    },
    more: (n: number, since: string) => `… і ще ${n} з ${since}`,
    /** `on`: still going on; `off`: over by now; null: occurrences that have no "over" (dead letters). */
    summary: (title: string, n: number, since: string, state: 'on' | 'off' | null) =>
      `🔁 ${title}: … і ще ${n} з ${since}.${state === 'on' ? ' Досі триває.' : state === 'off' ? ' Зараз усе гаразд.' : ''}`,
  },
  ivr: {
    menu: 'Доброго дня! Ви дзвоните до системи контролю доступу. Натисніть 1 для відкриття воріт, 2 для відкриття хвіртки.',
    invalid: 'Невірний вибір. Натисніть 1 для воріт або 2 для хвіртки.',
    refused: (org: Org) =>
      `Вибачте, ваш номер не має доступу.${org.supportPhone ? ` Зверніться за номером ${spokenDigits(org.supportPhone)}.` : ''} До побачення.`,
    openingVorota: 'Відкриваємо ворота, зачекайте будь ласка. Ворота відкриваються.',
    openingHvirtka: 'Відкриваємо хвіртку, зачекайте будь ласка. Хвіртка відкривається.',
    goodbye: 'Спробуйте ще раз пізніше. До побачення.',
  } satisfies Record<IvrPrompt, string | ((org: Org) => string)>,
} as const;

/** "1 секунду", "2 секунди", "5 секунд" (accusative after "Зачекайте"). */
function secondsWord(n: number): string {
  const mod10 = n % 10;
  const mod100 = n % 100;
  if (mod10 === 1 && mod100 !== 11) return 'секунду';
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) return 'секунди';
  return 'секунд';
}

/** A phone number as a voice reads it best: digit by digit, nothing else. */
const spokenDigits = (phone: string) => phone.replace(/\D/g, '').split('').join(' ');

const OUTCOME_WORDS: Record<CallStatus, string> = {
  opened: '✅ відчинено',
  busy: '❌ зайнято',
  noAnswer: '❌ не відповідає',
  misconfigured: '⚠️ прийнято (перевірка)',
  failed: '❌ не вдалося',
  duplicate: '⏳ вже відкривалося',
  pending: '⏳ очікуємо',
  initiated: '⏳ очікуємо',
};
/** A record from elsewhere (an older or damaged store) is "unknown": its raw value is never shown. */
const UNKNOWN_OUTCOME = '❔ невідомо';
const outcomeWord = (o: string) =>
  Object.hasOwn(OUTCOME_WORDS, o) ? OUTCOME_WORDS[o as CallStatus] : UNKNOWN_OUTCOME;

function statLines(counts: Stats['day']): string {
  const entries = Object.entries(counts).filter(([, n]) => (n ?? 0) > 0);
  if (entries.length === 0) return '— немає';
  return entries.map(([k, n]) => `${outcomeWord(k)}: ${n}`).join('\n');
}

function formatTime(at: number, tz: string): string {
  return new Intl.DateTimeFormat('uk-UA', {
    timeZone: tz,
    day: '2-digit',
    month: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(at);
}
