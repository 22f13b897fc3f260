// The 9ten web app: header, routed page and the persistent player bar.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { Icon } from './icons.js';
import { PlayerBar } from './player-bar.js';
import { player } from './player.js';
import { match, navigate, startRouter, useRoute } from './router.js';
import { hasRole, logout, refreshSession, useSession } from './session.js';
import { Home } from './pages/home.js';
import { Artists } from './pages/artists.js';
import { ArtistPage } from './pages/artist.js';
import { AlbumPage } from './pages/album.js';
import { TrackPage } from './pages/track.js';
import { Search } from './pages/search.js';
import { Login, Signup } from './pages/login.js';
import { BecomeArtist } from './pages/become-artist.js';
import { Upload } from './pages/upload.js';
import { MyMusic } from './pages/my-music.js';
import { Recent } from './pages/recent.js';
import { Following } from './pages/following.js';
import { RemoteCatalogue } from './pages/remote.js';
import { Playlists, RemotePlaylists, UserPlaylists } from './pages/playlists.js';
import { PlaylistPage, RemotePlaylistPage } from './pages/playlist.js';
import { Admin } from './pages/admin.js';
import { Money } from './pages/money.js';
import { Account } from './pages/account.js';
import { NotFound } from './pages/not-found.js';

const routes = [
  ['/', Home],
  ['/app', Home],
  ['/app/artists', Artists],
  ['/app/artists/:id', ArtistPage],
  ['/app/albums/:id', AlbumPage],
  ['/app/tracks/:id', TrackPage],
  ['/app/search', Search],
  ['/app/login', Login],
  ['/app/signup', Signup],
  ['/app/become-artist', BecomeArtist],
  ['/app/upload', Upload],
  ['/app/me/tracks', MyMusic],
  ['/app/me/listens', Recent],
  ['/app/following', Following],
  ['/app/me/money', Money],
  ['/app/me/account', Account],
  ['/app/remote', RemoteCatalogue],
  ['/app/playlists', Playlists],
  ['/app/playlists/:id', PlaylistPage],
  ['/app/users/:id/playlists', UserPlaylists],
  ['/app/following/playlists', RemotePlaylists],
  ['/app/following/playlists/:id', RemotePlaylistPage],
  ['/app/admin', Admin],
];

function resolve(path) {
  for (const [pattern, Page] of routes) {
    const params = match(pattern, path);
    if (params) return { Page, params };
  }
  return { Page: NotFound, params: {} };
}

function SearchBox() {
  const route = useRoute();
  const current = route.path === '/app/search' ? new URLSearchParams(route.search).get('q') || '' : '';
  const [q, setQ] = useState(current);
  useEffect(() => setQ(current), [current]);
  const submit = (e) => {
    e.preventDefault();
    navigate(`/app/search?q=${encodeURIComponent(q.trim())}`);
  };
  return html`<form class="search" role="search" onSubmit=${submit}>
    <label class="visually-hidden" for="search-q">Search music</label>
    <input id="search-q" type="search" placeholder="Search tracks and artists" value=${q}
      onInput=${(e) => setQ(e.currentTarget.value)} />
    <button class="icon-btn" aria-label="Search"><${Icon} name="search" /></button>
  </form>`;
}

function UserMenu() {
  const s = useSession();
  const [error, setError] = useState(null);
  if (s.loading) return null;
  if (!s.user) {
    return html`<div class="user-menu">
      <a href="/app/login">Log in</a>
      <a class="btn primary small" href="/app/signup">Sign up</a>
    </div>`;
  }
  const doLogout = async () => {
    try {
      await logout();
      navigate('/');
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<div class="user-menu">
    <a href="/app/me/listens">Recently played</a>
    <a href="/app/playlists">Playlists</a>
    <a href="/app/following">Following</a>
    <a href="/app/me/money">Money</a>
    ${hasRole(s.user, 'artist')
      ? html`<a href="/app/me/tracks">My music</a><a href="/app/upload">Upload</a>`
      : html`<a href="/app/become-artist">Become an artist</a>`}
    ${hasRole(s.user, 'admin') && html`<a href="/app/admin">Admin</a>`}
    <a class="who" href="/app/me/account" title=${`Logged in as ${s.user.username}: your account`}>${s.user.display_name || s.user.username}</a>
    <button type="button" class="btn small" onClick=${doLogout}>Log out</button>
    ${error && html`<span class="error-text" role="alert">${error}</span>`}
  </div>`;
}

function App() {
  const route = useRoute();
  const s = useSession();
  const main = useRef();
  const { Page, params } = resolve(route.path);

  // Move focus to the new page so screen readers announce it, as a full
  // page load would; skip the first render so autofocus fields keep focus.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else if (!main.current.contains(document.activeElement)) main.current.focus({ preventScroll: true });
  }, [route.path]);

  return html`
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" href="/" aria-label="9ten home">9<span>ten</span></a>
      <nav class="main-nav" aria-label="Main">
        <a href="/" aria-current=${route.path === '/' ? 'page' : undefined}>Home</a>
        <a href="/app/artists" aria-current=${route.path.startsWith('/app/artists') ? 'page' : undefined}>Artists</a>
      </nav>
      <${SearchBox} />
      <${UserMenu} />
    </header>
    ${s.error && html`<p class="banner" role="alert">Could not check your login: ${s.error}</p>`}
    <main id="main" ref=${main} tabindex="-1">
      <${Page} key=${route.path} params=${params} />
    </main>
    <${PlayerBar} />`;
}

startRouter();
refreshSession();
// Automated tests drive and inspect playback through this handle.
window.nineten = { player };
const root = document.getElementById('app');
root.textContent = ''; // drop the "Loading" placeholder: render() appends
render(html`<${App} />`, root);
