import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HealthChecks, healthPath, renderHealth } from './health-checks.js';

const q = (s = '') => new URLSearchParams(s);

function checks(synced: boolean): HealthChecks {
  return new HealthChecks()
    .addLiveness('event-loop', () => undefined)
    .addReadiness('mesh-cache-synced', () => (synced ? undefined : 'listing pods in west: 10.96.0.1 refused'));
}

test('all passing: plain `ok`; ?verbose lists every check of the path and says it passed', () => {
  const c = checks(true);
  assert.deepEqual(renderHealth('/readyz', q(), c), { status: 200, body: 'ok', failed: [] });
  assert.equal(
    renderHealth('/readyz', q('verbose'), c)?.body,
    '[+]ping ok\n[+]event-loop ok\n[+]mesh-cache-synced ok\nreadyz check passed\n',
  );
  // Liveness paths run the liveness checks only: a readiness check never restarts the process.
  assert.equal(renderHealth('/livez', q('verbose=1'), c)?.body, '[+]ping ok\n[+]event-loop ok\nlivez check passed\n');
  assert.equal(renderHealth('/healthz', q('verbose'), c)?.body, '[+]ping ok\n[+]event-loop ok\nhealthz check passed\n');
});

test('a failing check: 500, always verbose, the reason withheld from the answer and handed to the log', () => {
  const r = renderHealth('/readyz', q(), checks(false));
  assert.equal(r?.status, 500);
  assert.equal(
    r?.body,
    '[+]ping ok\n[+]event-loop ok\n[-]mesh-cache-synced failed: reason withheld\nreadyz check failed\n',
  );
  assert.doesNotMatch(r?.body ?? '', /10\.96|refused/);
  assert.deepEqual(r?.failed, [{ name: 'mesh-cache-synced', reason: 'listing pods in west: 10.96.0.1 refused' }]);
  // The same process is alive.
  assert.equal(renderHealth('/livez', q(), checks(false))?.status, 200);
});

test('?exclude= skips a check (shown as excluded) and warns about names that match none', () => {
  const r = renderHealth('/readyz', q('exclude=mesh-cache-synced&exclude=nope&exclude=a"b'), checks(false));
  assert.equal(r?.status, 200);
  assert.equal(r?.body, 'ok');
  const v = renderHealth('/readyz', q('verbose&exclude=mesh-cache-synced&exclude=nope&exclude=a"b'), checks(false));
  assert.equal(
    v?.body,
    '[+]ping ok\n[+]event-loop ok\n[+]mesh-cache-synced excluded: ok\n' +
      'warn: some health checks cannot be excluded: no matches for "a\\"b","nope"\nreadyz check passed\n',
  );
});

test('per-check paths: `ok`, or 500 with the reason withheld; an unknown check or path is not a health answer', () => {
  assert.deepEqual(renderHealth('/readyz/ping', q(), checks(false)), { status: 200, body: 'ok', failed: [] });
  const failing = renderHealth('/readyz/mesh-cache-synced', q('verbose'), checks(false));
  assert.equal(failing?.status, 500);
  assert.equal(failing?.body, 'internal server error: reason withheld\n');
  assert.equal(failing?.failed[0]?.name, 'mesh-cache-synced');
  assert.equal(renderHealth('/livez/mesh-cache-synced', q(), checks(false)), undefined, 'not a liveness check');
  assert.equal(renderHealth('/readyz/nope', q(), checks(true)), undefined);
  assert.equal(renderHealth('/readyz/ping/x', q(), checks(true)), undefined);
  assert.equal(renderHealth('/metrics', q(), checks(true)), undefined);
  assert.equal(renderHealth('/readyzz', q(), checks(true)), undefined);
  assert.deepEqual(healthPath('/livez/ping'), { endpoint: 'livez', check: 'ping' });
});

test('every check runs once per answer, at the time of the request', () => {
  let calls = 0;
  let ok = false;
  const c = new HealthChecks().addReadiness('flag', () => {
    calls++;
    return ok ? undefined : 'not yet';
  });
  assert.equal(renderHealth('/readyz', q(), c)?.status, 500);
  ok = true;
  assert.equal(renderHealth('/readyz', q(), c)?.status, 200);
  assert.equal(calls, 2);
});

test('a check name must be a path segment and unique', () => {
  assert.throws(() => new HealthChecks().addReadiness('a/b', () => undefined), /not a path segment/);
  assert.throws(() => new HealthChecks().addLiveness('ping', () => undefined), /registered twice/);
});
