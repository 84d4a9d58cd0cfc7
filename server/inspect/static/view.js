/* What the inspector page shows, shared by its modules. */
export const view = {
  /** The registry from /inspect/machines.json. */
  machines: [],
  /** `{ id, machine }` of the chosen actor, or null. */
  selected: null,
  /** The chosen actor as last fetched, with its history. */
  detail: null,
  /** null (live) or the index of the stored transition being shown, oldest first. */
  step: null,
  /** Whether the chosen actor's sequence view is open. */
  sequence: false,
  /** Per machine, the state its drawn diagram highlights. */
  shown: new Map(),
  /** The actor key filter typed in the header. */
  filter: '',
};
