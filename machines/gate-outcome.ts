/**
 * THE rule that turns Zadarma's final webhook of a gate call into what the user is told.
 *
 * A GSM relay never answers: it sees the caller id, REJECTS the call and fires the relay. So the
 * evidence that the gate opened is "it rang, then it was rejected": disposition `cancel` with a
 * duration above zero. The old system flipped this rule four times (see
 * docs/protocols/zadarma.md#dispositions-and-the-outcome-of-a-gate-call),
 * which is why it lives here alone, as a table read top to bottom, first match wins.
 *
 * | # | disposition (lower-cased, trimmed)  | duration | outcome        | user is told                        |
 * |---|-------------------------------------|----------|----------------|-------------------------------------|
 * | 1 | cancel                              | > 0      | opened         | ✅ Хвіртка/Ворота відчинено!        |
 * | 2 | busy                                | any      | busy           | ❌ Номер зайнятий. Спробуйте ще раз. |
 * | 3 | cancel, no answer, no answered      | 0        | noAnswer       | ❌ Номер не відповідає.              |
 * | 4 | answered                            | any      | misconfigured  | contact support; admins alerted     |
 * | 5 | anything else                       | any      | failed         | ❌ Не вдалося відкрити. Статус: …    |
 */
export type GateOutcome = 'opened' | 'busy' | 'noAnswer' | 'misconfigured' | 'failed';

interface Rule {
  dispositions: string[] | 'any';
  duration: 'positive' | 'zero' | 'any';
  outcome: GateOutcome;
}

export const OUTCOME_RULES: readonly Rule[] = [
  { dispositions: ['cancel'], duration: 'positive', outcome: 'opened' },
  { dispositions: ['busy'], duration: 'any', outcome: 'busy' },
  {
    dispositions: ['cancel', 'no answer', 'no answered', 'no-answer'],
    duration: 'zero',
    outcome: 'noAnswer',
  },
  { dispositions: ['answered'], duration: 'any', outcome: 'misconfigured' },
  { dispositions: 'any', duration: 'any', outcome: 'failed' },
];

export function decideOutcome(disposition: string, duration: number): GateOutcome {
  const d = disposition.trim().toLowerCase();
  for (const rule of OUTCOME_RULES) {
    const dispositionOk = rule.dispositions === 'any' || rule.dispositions.includes(d);
    const durationOk =
      rule.duration === 'any' || (rule.duration === 'positive' ? duration > 0 : duration === 0);
    if (dispositionOk && durationOk) return rule.outcome;
  }
  return 'failed';
}
