// A minimal observable store for state that outlives any one page: the
// session, the route, the player and uploads in progress.
import { useEffect, useRef, useState } from 'preact/hooks';

export function createStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    get: () => state,
    // set merges a patch (or the result of patch(state)) into the state.
    set(patch) {
      state = { ...state, ...(typeof patch === 'function' ? patch(state) : patch) };
      listeners.forEach((listener) => listener(state));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function shallowEqual(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || !a || !b) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.is(a[k], b[k]));
}

// useStore re-renders the component when the selected part of the store
// changes. Selecting keeps the player's four timeupdates a second from
// re-rendering components that only care which track is playing.
export function useStore(store, select = (state) => state) {
  const selected = select(store.get());
  const latest = useRef();
  latest.current = { select, selected };
  const [, rerender] = useState(0);
  useEffect(() => {
    const check = (state) => {
      const { select, selected } = latest.current;
      if (!shallowEqual(select(state), selected)) rerender((n) => n + 1);
    };
    const unsubscribe = store.subscribe(check);
    check(store.get()); // the store may have changed before we subscribed
    return unsubscribe;
  }, [store]);
  return selected;
}
