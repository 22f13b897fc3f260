// Data-loading hooks shared by the pages.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, query } from './api.js';

// useFetch loads path (skipped while it is falsy) and keeps the previous
// data while reloading, so refreshing a page does not flash empty.
export function useFetch(path) {
  const [state, setState] = useState({ data: null, error: null, loading: !!path });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (!path) return;
    let current = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    api.get(path).then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error) => current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [path, generation]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const setData = useCallback((update) => setState((s) => ({ ...s, data: typeof update === 'function' ? update(s.data) : update })), []);
  return { ...state, reload, setData };
}

// usePaged loads a paged list ({items, total}) limit items at a time;
// loadMore appends the next page. Changing path or params starts over.
export function usePaged(path, params, limit = 50) {
  const key = path + query(params);
  const [want, setWant] = useState({ key, offset: 0, generation: 0 });
  const offset = want.key === key ? want.offset : 0;
  const [list, setList] = useState({ key: null, items: [], total: 0 });
  const [status, setStatus] = useState({ loading: true, error: null });
  useEffect(() => {
    let current = true;
    setStatus({ loading: true, error: null });
    api.get(path + query({ ...params, limit, offset })).then(
      (data) => {
        if (!current) return;
        setList((l) => ({
          key,
          total: data.total ?? data.items.length,
          items: offset > 0 && l.key === key ? [...l.items, ...data.items] : data.items,
        }));
        setStatus({ loading: false, error: null });
      },
      (error) => current && setStatus({ loading: false, error }),
    );
    return () => {
      current = false;
    };
  }, [key, offset, want.generation]);
  const items = list.key === key ? list.items : [];
  return {
    items,
    total: list.total,
    ...status,
    hasMore: items.length < list.total,
    loadMore: () => setWant((w) => ({ ...w, key, offset: items.length })),
    reload: () => setWant((w) => ({ key, offset: 0, generation: w.generation + 1 })),
    // setItems edits loaded rows in place, after an action on one of them.
    setItems: (update) => setList((l) => ({ ...l, items: update(l.items) })),
  };
}

// useInterval calls fn every ms milliseconds while active.
export function useInterval(fn, ms, active = true) {
  useEffect(() => {
    if (!active) return;
    const id = setInterval(fn, ms);
    return () => clearInterval(id);
  }, [fn, ms, active]);
}

export function useTitle(title) {
  useEffect(() => {
    document.title = title ? `${title} · 9ten` : '9ten';
  }, [title]);
}
