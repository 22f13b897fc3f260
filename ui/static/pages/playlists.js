// Playlists: the user's own (public and private) with a form to start one,
// a user's public playlists, and the playlists of the people the user
// follows on other servers (copies this node keeps of them).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { usePaged, useTitle } from '../hooks.js';
import { Empty, ErrorBox, Guard, Loading } from '../components.js';
import { formatDate, plural } from '../format.js';
import { navigate } from '../router.js';

export function Playlists() {
  useTitle('Playlists');
  return html`<div class="page">
    <div class="section-head">
      <h1>Playlists</h1>
      <a class="btn" href="/app/following/playlists">From people you follow</a>
    </div>
    <${Guard}>
      <${NewPlaylist} />
      <section aria-labelledby="my-playlists-title">
        <h2 id="my-playlists-title">Yours</h2>
        <${PlaylistList} path="/api/v1/me/playlists" empty="You have no playlists yet. Start one above, or add a track to a new one from its row." />
      </section>
    </${Guard}>
  </div>`;
}

// UserPlaylists lists the public playlists of a user of this node.
export function UserPlaylists({ params }) {
  useTitle('Playlists');
  return html`<div class="page">
    <h1>Public playlists</h1>
    <${PlaylistList} path=${`/api/v1/users/${encodeURIComponent(params.id)}/playlists`} empty="No public playlists." showOwner />
  </div>`;
}

// RemotePlaylists lists the playlists that the actors the user follows
// on other servers published.
export function RemotePlaylists() {
  useTitle('Playlists from people you follow');
  return html`<div class="page">
    <div class="section-head">
      <h1>Playlists from people you follow</h1>
      <a class="btn" href="/app/following">Following</a>
    </div>
    <${Guard}>
      <${PlaylistList} path="/api/v1/remote/playlists" remote showOwner
        empty="The people you follow on other servers have not published playlists yet." />
    </${Guard}>
  </div>`;
}

export const playlistHref = (p) => (p.owner_id ? `/app/playlists/${p.id}` : `/app/following/playlists/${p.id}`);

function PlaylistList({ path, empty, showOwner = false }) {
  const list = usePaged(path, {});
  if (list.error && !list.items.length) return html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  if (list.loading && !list.items.length) return html`<${Loading} />`;
  if (!list.items.length) return html`<${Empty}><p>${empty}</p></${Empty}>`;
  return html`<ul class="playlists" data-testid="playlists">
      ${list.items.map(
        (p) => html`<li key=${p.id}>
          <a class="card playlist-card" href=${playlistHref(p)} data-testid="playlist-card">
            <strong>${p.title || 'Untitled playlist'}</strong>
            <span class="sub">
              ${[plural(p.item_count, 'track'), p.owner_id ? (p.public ? 'public' : 'private') : '', showOwner && p.owner, `updated ${formatDate(p.updated_at)}`]
                .filter(Boolean)
                .join(' · ')}
            </span>
          </a>
        </li>`,
      )}
    </ul>
    ${list.hasMore && html`<button type="button" class="btn" disabled=${list.loading} onClick=${list.loadMore}>More</button>`}`;
}

function NewPlaylist() {
  const [title, setTitle] = useState('');
  const [isPublic, setPublic] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const p = await api.post('/api/v1/playlists', { title: title.trim(), public: isPublic });
      navigate(`/app/playlists/${p.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<section class="panel" aria-labelledby="new-playlist-title">
    <h2 id="new-playlist-title">New playlist</h2>
    <form class="form" data-testid="new-playlist" onSubmit=${submit}>
      <${ErrorBox} error=${error} />
      <label>Title
        <input data-testid="playlist-title" required maxlength="200" value=${title} onInput=${(e) => setTitle(e.currentTarget.value)} />
      </label>
      <label class="check">
        <input type="checkbox" data-testid="playlist-public" checked=${isPublic} onChange=${(e) => setPublic(e.currentTarget.checked)} />
        Public: anyone can see it, and people who follow you on other servers get it
      </label>
      <div class="actions">
        <button class="btn primary" data-testid="playlist-create" disabled=${busy}>${busy ? 'Creating…' : 'Create playlist'}</button>
      </div>
    </form>
  </section>`;
}
