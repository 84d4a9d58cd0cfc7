/**
 * One spelling per phone number, so that "+380 50 111-22-33", "380501112233" and "0501112233" are
 * the same person: digits only, Ukrainian numbers in full international form (380XXXXXXXXX).
 * Returns null for something that is not a phone number at all.
 */
export function normalisePhone(raw: string): string | null {
  if (typeof raw !== 'string' || raw.length > 40) return null;
  if (!/^[\d\s()+\-.]+$/.test(raw.trim())) return null;
  let digits = raw.replace(/\D/g, '');
  if (digits.startsWith('00')) digits = digits.slice(2);
  if (digits.length === 10 && digits.startsWith('0')) digits = `38${digits}`;
  else if (digits.length === 9 && !digits.startsWith('0')) digits = `380${digits}`;
  return digits.length >= 7 && digits.length <= 15 ? digits : null;
}

/** Two spellings of the same number? (Both normalised; unreadable numbers never match.) */
export function samePhone(a: string | undefined | null, b: string | undefined | null): boolean {
  if (!a || !b) return false;
  const na = normalisePhone(a);
  return na !== null && na === normalisePhone(b);
}
