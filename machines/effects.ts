/**
 * The effects of a machine: the actions it only emits. Their implementations do nothing; XState hands
 * them to the engine as data (`{ type, params }`) and the machine's binding on the server carries them
 * out (`defineBinding`: one handler per effect, typed by this declaration).
 *
 * A machine spreads its effects into `setup({ actions })` next to its own `assign`/`raise` actions
 * (which never leave it), so its config can name only declared effects, with their declared params.
 */
export const effect =
  <P>() =>
  (_args: unknown, _params: P): void => {};

/** Action name → params of a machine's effects (`{ reply: View; … }`), read off their declaration. */
export type ActionMap<E> = {
  [K in keyof E]: E[K] extends (args: never, params: infer P) => void ? P : never;
};
