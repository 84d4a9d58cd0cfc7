import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireLock, LockHeldError, lockFile, lockStatus } from '../storage/service-lock';
import { tmpDataDir } from './helpers/service';

const dirs: string[] = [];
const dir = () => {
  const d = tmpDataDir();
  dirs.push(d);
  return d;
};
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function throwsHeld(fn: () => unknown, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, LockHeldError);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable('the lock was taken');
}

const write = (d: string, info: object) => writeFileSync(lockFile(d), JSON.stringify(info));

test('taken whole, named, released; only a temp-free store folder is left', () => {
  const d = dir();
  assert.equal(lockStatus(d), { state: 'free' });
  const lock = acquireLock(d, 'service');
  const info = JSON.parse(readFileSync(lockFile(d), 'utf-8'));
  assert.is(info.pid, process.pid);
  assert.is(info.purpose, 'service');
  assert.is(info.host, hostname());
  assert.ok(Date.parse(info.since) > 0);
  assert.equal(lockStatus(d), { state: 'held', info });
  assert.equal(readdirSync(join(d, 'store')), ['service.lock'], 'no temp file left');
  lock.release();
  lock.release();
  assert.not.ok(existsSync(lockFile(d)));
});

test('a second taker in the same process is refused, naming the file', () => {
  const d = dir();
  const lock = acquireLock(d, 'service');
  throwsHeld(
    () => acquireLock(d, 'service'),
    new RegExp(`in use by a Switchboard service \\(pid ${process.pid}.*lock file ${lockFile(d)}`),
  );
  throwsHeld(() => acquireLock(d, 'restore'), /refusing to restore into .*Stop it first/);
  lock.release();
  acquireLock(d, 'service').release();
});

test('stale locks are taken over and say why: gone pid, this pid of an earlier process, unreadable, reboot', () => {
  const cases: Array<[object | string, RegExp]> = [
    [{ pid: 999_999_999, purpose: 'service', host: hostname(), since: 'then' }, /process 999999999 is gone/],
    [
      { pid: process.pid, purpose: 'service', host: hostname(), since: 'then' },
      /an earlier process with this pid/,
    ],
    ['{"pid":', /unreadable/],
    [{ pid: 1, purpose: 'service', host: hostname(), since: 'then', bootId: 'another-boot' }, /rebooted/],
  ];
  for (const [content, why] of cases) {
    const d = dir();
    acquireLock(d, 'service').release(); // creates the folder
    if (typeof content === 'string') writeFileSync(lockFile(d), content);
    else write(d, content);
    const lock = acquireLock(d, 'service');
    assert.match(lock.tookOver?.why ?? '', why);
    assert.is(JSON.parse(readFileSync(lockFile(d), 'utf-8')).pid, process.pid);
    lock.release();
  }
});

test('a live pid whose start time differs is another process: stale; the same start time: held', () => {
  const d = dir();
  acquireLock(d, 'service').release();
  const mine = { pid: process.ppid, purpose: 'service', host: hostname(), since: 'x' };
  write(d, { ...mine, procStart: '1' });
  const status = lockStatus(d);
  if (existsSync('/proc/self/stat')) {
    assert.is(status.state, 'stale');
    assert.match(status.state === 'stale' ? status.why : '', /now belongs to another process/);
    write(d, mine); // no start time recorded: a live pid counts as the holder
    assert.is(lockStatus(d).state, 'held');
  }
  write(d, { ...mine, host: 'another-machine' });
  assert.is(lockStatus(d).state, 'held', "another machine's process cannot be checked: held");
});

test("a service never takes over an interrupted restore's lock; a restore does; abandon leaves the lock", () => {
  const d = dir();
  const restore = acquireLock(d, 'restore');
  restore.annotate('the data that was in X before is in X/replaced-1');
  restore.abandon();
  assert.ok(existsSync(lockFile(d)));
  write(d, { ...JSON.parse(readFileSync(lockFile(d), 'utf-8')), pid: 999_999_999 });
  throwsHeld(
    () => acquireLock(d, 'service'),
    /a restore into .* was interrupted .*Run the restore again.*replaced-1/,
  );
  const again = acquireLock(d, 'restore');
  assert.match(again.tookOver?.why ?? '', /gone/);
  again.release();
  acquireLock(d, 'service').release();
});

test.run();
