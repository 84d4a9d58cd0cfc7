import type { Shift } from '../../machines/whatsapp-menu';
import { ru } from '../texts/ru';
import { type AttendanceRow, daysOf, shiftMonth } from './attendance-export';
import { escapeHtml, localUrl } from './html';

const t = ru.attendancePage;
const SHORT = t.shortShifts;

/** The month as a table for managers: one row per employee, one column per day, and the CSV links. */
export function attendancePage(month: string, rows: AttendanceRow[]): string {
  const days = daysOf(month);
  const people = new Map<string, { name: string; phone: string; days: Map<string, AttendanceRow> }>();
  for (const r of rows) {
    const p = people.get(r.phone) ?? { name: r.name, phone: r.phone, days: new Map() };
    p.days.set(r.date, r);
    people.set(r.phone, p);
  }
  const monthName = new Intl.DateTimeFormat('ru', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${month}-01T00:00:00Z`),
  );
  const heading = escapeHtml(t.title(monthName));
  const csv = localUrl('/admin/attendance.csv', { month });
  const csvExcel = localUrl('/admin/attendance.csv', { month, sep: 'semicolon' });
  const nav = (delta: number, text: string) =>
    `<a href="${escapeHtml(localUrl('/admin/attendance', { month: shiftMonth(month, delta) }))}">${text}</a>`;
  const head = days
    .map((d) => {
      const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
      return `<th class="${wd === 0 || wd === 6 ? 'we' : ''}">${Number(d.slice(8))}<br><small>${t.weekdays[wd]}</small></th>`;
    })
    .join('');
  const body = [...people.values()]
    .map((p) => {
      const cells = days
        .map((d) => {
          const r = p.days.get(d);
          if (!r) return '<td></td>';
          const tip = t.recordedAt(ru.shifts[r.shift], new Date(r.recordedAt).toISOString());
          return `<td class="s-${r.shift}" data-date="${d}" data-shift="${r.shift}" title="${escapeHtml(tip)}">${SHORT[r.shift]}</td>`;
        })
        .join('');
      const count = (s: Shift) => [...p.days.values()].filter((r) => r.shift === s).length;
      return `<tr data-phone="${escapeHtml(p.phone)}"><th class="who">${escapeHtml(p.name || '—')}<br><small>+${escapeHtml(p.phone)}</small></th>${cells}<td class="n">${count('day')}</td><td class="n">${count('night')}</td><td class="n">${count('off')}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${heading}</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
nav{display:flex;gap:1rem;align-items:center;flex-wrap:wrap;margin-bottom:1rem}
nav h1{font-size:1.3rem;margin:0 1rem 0 0}
a.download{background:#1565c0;color:#fff;padding:.4rem .8rem;border-radius:4px;text-decoration:none}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ccc;padding:2px 4px;text-align:center;min-width:1.6em}
th.who{text-align:left;white-space:nowrap;position:sticky;left:0;background:#fff}
th.we{background:#f3f3f3}
.s-day{background:#fff59d}.s-night{background:#9fa8da}.s-off{background:#e0e0e0}
td.n{font-weight:bold}
.legend span{display:inline-block;padding:0 .4rem;margin-right:.5rem}
.empty{color:#777}
</style></head><body>
<nav><h1>${heading}</h1>
${nav(-1, t.previous)} ${nav(1, t.next)}
<form method="get" action="/admin/attendance"><input type="month" name="month" value="${escapeHtml(month)}"> <button>${t.show}</button></form>
<a class="download" href="${escapeHtml(csv)}" download>${escapeHtml(t.download(month))}</a>
<a class="download excel" href="${escapeHtml(csvExcel)}" download title="${escapeHtml(t.downloadExcelHint)}">${escapeHtml(t.downloadExcel)}</a>
<form method="post" action="/admin/logout"><button>${escapeHtml(ru.adminSignIn.signOut)}</button></form>
</nav>
<p class="legend"><span class="s-day">${SHORT.day} — ${ru.shifts.day}</span><span class="s-night">${SHORT.night} — ${ru.shifts.night}</span><span class="s-off">${SHORT.off} — ${ru.shifts.off}</span>
${t.counts(people.size, rows.length)}</p>
${
  people.size === 0
    ? `<p class="empty">${t.empty}</p>`
    : `<table id="attendance"><thead><tr><th class="who">${t.employee}</th>${head}<th>${SHORT.day}</th><th>${SHORT.night}</th><th>${SHORT.off}</th></tr></thead>
<tbody>
${body}
</tbody></table>`
}
</body></html>
`;
}
