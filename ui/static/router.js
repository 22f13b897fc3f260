// History routing under /app/ (and / for home). The page is never
// reloaded, so the audio element and the queue survive navigation.
import { createStore, useStore } from './store.js';

const here = () => ({ path: location.pathname, search: location.search });
const route = createStore(here());

export const useRoute = () => useStore(route);

export const isAppPath = (path) => path === '/' || path === '/app' || path.startsWith('/app/');

export function navigate(url, { replace = false } = {}) {
  const same = url === location.pathname + location.search + location.hash;
  history[replace || same ? 'replaceState' : 'pushState'](null, '', url);
  route.set(here());
  window.scrollTo(0, 0);
}

// match returns the parameters of a pattern like /app/tracks/:id for path,
// or null when it does not match.
export function match(pattern, path) {
  const want = pattern.split('/');
  const got = (path.length > 1 ? path.replace(/\/+$/, '') : path).split('/');
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}

// startRouter turns clicks on same-origin links to app routes into history
// navigation. Links elsewhere (media downloads, the API) behave normally,
// as do clicks meant to open a new tab.
export function startRouter() {
  addEventListener('popstate', () => route.set(here()));
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest?.('a[href]');
    if (!a || (a.target && a.target !== '_self') || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !isAppPath(url.pathname)) return;
    e.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
