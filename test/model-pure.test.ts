import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnyStateNode } from 'xstate';
import { MACHINES } from '../machines/index';
import { statesOf } from '../server/inspect/machines';
import { acceptedEvents, generatePaths, MODELS, replay, uniquePaths } from './helpers/model';

/**
 * Model-based tests on the pure machines: every path xstate/graph generates (shortest paths to every
 * state, simple paths to each final state, or to every state for a machine without one) is replayed
 * with `transition()`, checking each step's state and the machine's rules (test/helpers/model.ts).
 */
const test = suite('model-based: pure machines');

test('every registered machine has a model that sends every event it accepts', () => {
  assert.equal(Object.keys(MODELS).sort(), Object.keys(MACHINES).sort());
  for (const model of Object.values(MODELS)) {
    const modelled = new Set(model.events.map((e) => e.type));
    const missing = acceptedEvents(model.logic).filter((t) => !modelled.has(t));
    assert.equal(
      missing,
      [],
      `${model.name}: add these events (with payload variants) to test/helpers/model.ts`,
    );
  }
});

for (const model of Object.values(MODELS)) {
  test(`${model.name}: every generated path holds on the pure machine`, () => {
    const { shortest, simple, hasFinal } = generatePaths(model);
    const all = [...shortest, ...simple];
    let run = 0;
    for (const path of all) {
      replay(model, path);
      run++;
    }
    const states = new Set(shortest.map((p) => model.serializeState(p.state)));
    process.stdout.write(
      `model ${model.name}: ${shortest.length} shortest paths (to ${states.size} states) + ${simple.length} simple paths (to ${
        hasFinal ? 'each final state' : 'every state'
      }) generated; ${run} run on the pure machine (${uniquePaths(all).length} distinct)\n`,
    );
    assert.ok(shortest.length > 0, 'shortest paths generated');
    assert.ok(simple.length > 0, 'simple paths generated');
    assert.is(run, all.length);
    // Every state of the definition, nested ones and their parents included, is reached by some
    // shortest path.
    const defined = statesOf(model.logic.root as AnyStateNode).map((n) => n.path.join('.'));
    assert.equal(
      defined.filter((s) => !shortest.some((p) => p.state.matches(s as never))),
      [],
      'states no generated path reaches',
    );
  });
}

test.run();
