import Router from '@koa/router';
import type { Store } from '../../../storage/store';
import { monthOf, monthRows, separatorOf, toCsv } from '../../admin/attendance-export';
import { attendancePage } from '../../admin/attendance-page';
import { requireAdmin } from '../admin-auth';

/**
 * Attendance for managers (ADMIN_TOKEN): `GET /admin/attendance.csv?month=YYYY-MM` (one row per
 * employee and day, UTF-8 with BOM; `&sep=semicolon` for Excel in a Russian locale) and
 * `GET /admin/attendance?month=` (the month as a table).
 * Phones are shown in full here: managers need them, and the token or the sign-in cookie guards them,
 * always (even when the inspector is open in development).
 */
export function attendanceRoutes(deps: {
  store: Store;
  adminToken: string;
  timezone: string;
  clock: () => number;
}): Router {
  const router = new Router();
  const guard = requireAdmin(deps.adminToken, deps.clock);

  router.get('/admin/attendance.csv', guard, (ctx) => {
    const month = monthOf(ctx.query.month, deps.timezone, deps.clock());
    const sep = separatorOf(ctx.query.sep);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set(
      'Content-Disposition',
      `attachment; filename=attendance-${month}${sep === ';' ? '-excel' : ''}.csv`,
    );
    ctx.body = toCsv(monthRows(deps.store, month), sep);
  });

  router.get('/admin/attendance', guard, (ctx) => {
    const month = monthOf(ctx.query.month, deps.timezone, deps.clock());
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = attendancePage(month, monthRows(deps.store, month));
  });

  return router;
}
