import type { PeriodError } from '../../machines/period';
import type { Shift } from '../../machines/whatsapp-menu';

/**
 * Every text a WhatsApp user reads (Russian). Titles keep the platform's limits: reply buttons ≤ 20
 * characters, list rows ≤ 24, list button ≤ 20 (the 360dialog client checks them again before sending).
 */
export const ru = {
  buttons: {
    FILL_TODAY: 'Заполнить за сегодня',
    FILL_PERIOD: 'Заполнить за период',
    MY_STATUS: 'Мой статус',
  },
  shifts: { day: 'Дневная', night: 'Ночная', off: 'Выходной' } satisfies Record<Shift, string>,
  shiftDescriptions: { day: 'Дневная смена', night: 'Ночная смена', off: 'Нет смены' } satisfies Record<
    Shift,
    string
  >,
  menuBody: 'Выберите действие:',
  listButton: 'Выбрать смену',
  listSection: 'Смены',
  listBodyToday: (date: string) => `Какая у вас смена сегодня, ${date}?`,
  listBodyDay: (date: string) => `Какая у вас смена ${date}?`,
  listBodyPeriod: (start: string, end: string, days: number) =>
    `Какая смена с ${start} по ${end} (${daysRu(days)})? Она будет записана на каждый день.`,
  pickFromList: 'Пожалуйста, выберите смену из списка ниже (или напишите «меню»).',
  askPeriod:
    'Напишите даты периода, например: 01.11-07.11 или 28.12.2026-03.01.2027. Один день: 05.11.\n' +
    'Не больше 31 дня. Чтобы вернуться, напишите «меню».',
  periodErrors: {
    format: 'Не понял даты. Напишите период так: 01.11-07.11 (или один день: 05.11).',
    invalidDate: 'Такой даты нет в календаре. Проверьте день и месяц, например: 01.11-07.11.',
    endBeforeStart: 'Дата окончания раньше даты начала. Сначала начало, потом конец: 01.11-07.11.',
    tooLong: 'Период длиннее 31 дня. Разбейте его на части, например: 01.11-30.11.',
  } satisfies Record<PeriodError, string>,
  recordedOne: (date: string, shift: string) => `Смена записана ✅\n${date} — ${shift}`,
  recordedRange: (start: string, end: string, days: number, shift: string) =>
    `Смена записана ✅\n${start} — ${end} (${daysRu(days)}): ${shift}`,
  replacedOne: 'Прежняя запись за этот день заменена.',
  replacedSome: (n: number, days: number) =>
    n === days ? 'Прежние записи за эти дни заменены.' : `Заменено прежних записей: ${n}.`,
  statusTitle: 'Ваши последние записи:',
  statusLine: (date: string, shift: string) => `${date} — ${shift}`,
  statusEmpty: 'У вас пока нет записей. Нажмите «Заполнить за сегодня», чтобы отметить смену.',
  unsupported: 'Я понимаю только текст и кнопки. Выберите действие:',
  unknownButton: 'Эта кнопка устарела. Выберите действие:',
  cancelled: 'Отменено.',
  reset: 'Бот обновился, начнём сначала.',
  /** The daily shift reminder inside the 24-hour window (the menu buttons follow). */
  reminder: (date: string) => `Напоминание: отметьте смену за сегодня, ${date}.`,
  remindersOff: 'Напоминания отключены. Чтобы снова их получать, напишите «старт».',
  remindersOn: 'Напоминания включены ✅ Чтобы отключить их, напишите «стоп».',
  /** The reminder template's body parameter when WhatsApp gave no profile name. */
  reminderNameFallback: 'коллега',
  nextStep: 'Что дальше?',
  /** The managers' attendance page (/admin/attendance). */
  attendancePage: {
    shortShifts: { day: 'Д', night: 'Н', off: 'В' } satisfies Record<Shift, string>,
    weekdays: ['Вс', 'Пн', 'Вт', 'Ср', 'Чт', 'Пт', 'Сб'],
    title: (monthName: string) => `Табель: ${monthName}`,
    previous: '← предыдущий месяц',
    next: 'следующий месяц →',
    show: 'Показать',
    download: (month: string) => `Скачать CSV (${month})`,
    downloadExcel: 'CSV для Excel (;)',
    downloadExcelHint:
      'Столбцы разделены точкой с запятой: так Excel с русскими настройками открывает файл сразу',
    recordedAt: (shift: string, at: string) => `${shift} — записано ${at}`,
    counts: (people: number, records: number) => `${people} сотрудник(ов), ${records} записей`,
    empty: 'За этот месяц записей нет.',
    employee: 'Сотрудник',
  },
  /** The admin sign-in form (/admin/login): managers open the attendance table through it. */
  adminSignIn: {
    title: 'Вход для администратора',
    token: 'Токен администратора (ADMIN_TOKEN)',
    submit: 'Войти',
    wrong: 'Неверный токен.',
    tooMany: (minutes: number) => `Слишком много неудачных попыток. Попробуйте через ${minutes} мин.`,
    signOut: 'Выйти',
  },
} as const;

/** "1 день", "2 дня", "5 дней". */
export function daysRu(n: number): string {
  const mod10 = n % 10;
  const mod100 = n % 100;
  const word =
    mod10 === 1 && mod100 !== 11
      ? 'день'
      : mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)
        ? 'дня'
        : 'дней';
  return `${n} ${word}`;
}
