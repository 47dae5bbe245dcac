import assert from 'node:assert/strict';

/** The error `promise` rejects with, which must be a `type`; fails the test when the promise resolves. */
export async function rejectionOf<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected the request to fail with a ${type.name}`);
}
