// Playlists in the rest of the app: the "Add to playlist" control of track
// rows and pages, and the player's view of a playlist item. An item is a
// track of this node, or a track of another server known by its
// ActivityPub id; everything about the latter comes from other servers:
// it is rendered as text only, and only http(s) links to it are made.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { webURL } from './federation.js';
import { html } from './html.js';
import { Icon } from './icons.js';
import { useSession } from './session.js';

// queueItem turns a playlist item into what the player queues: the track
// itself, or a remote track (see federation.js remoteTrack) that streams
// from its server and is not counted here.
export function queueItem(item) {
  if (item.track) return item.track;
  const r = item.remote;
  const stream = webURL(r.hls_url);
  const host = stream?.host || webURL(r.id)?.host || '';
  return {
    id: r.id,
    remote: true,
    title: r.title || 'Untitled',
    artist: r.artist || host,
    catalogue_url: '/app/following',
    duration_ms: r.duration_ms || 0,
    hls_url: stream?.href || '',
    host,
    cover_url: webURL(r.cover_url)?.href || '',
    page_url: webURL(r.page_url)?.href || webURL(r.id)?.href || '',
  };
}

// AddToPlaylist offers the user's playlists for a track (of this node, or
// a remote one from federation.js) and adds it to the one chosen, or to a
// new one named on the spot. With labelled it is a button with text (the
// track page), else an icon (track rows).
export function AddToPlaylist({ track, labelled = false }) {
  const s = useSession();
  const [open, setOpen] = useState(false);
  const [lists, setLists] = useState(null);
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [added, setAdded] = useState(null); // the title of the playlist it went to
  const root = useRef();

  // The menu closes on Escape and on a click elsewhere, like any menu.
  useEffect(() => {
    if (!open) return;
    const away = (e) => root.current && !root.current.contains(e.target) && setOpen(false);
    const escape = (e) => {
      if (e.key === 'Escape') {
        setOpen(false);
        root.current?.querySelector('button')?.focus();
      }
    };
    document.addEventListener('mousedown', away);
    document.addEventListener('keydown', escape);
    return () => {
      document.removeEventListener('mousedown', away);
      document.removeEventListener('keydown', escape);
    };
  }, [open]);

  if (!s.user) return null;
  const addable = track.remote ? !!webURL(track.id) : track.status === 'ready' && !track.hidden;
  const name = `Add ${track.title} to a playlist`;

  const toggle = async () => {
    if (open) return setOpen(false);
    setOpen(true);
    setError(null);
    setAdded(null);
    try {
      setLists((await api.get('/api/v1/me/playlists?limit=200')).items);
    } catch (err) {
      setError(err);
    }
  };
  const addTo = async (p) => {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/v1/playlists/${p.id}/items`, track.remote ? { track_iri: track.id } : { track_id: track.id });
      setAdded(p.title);
      setOpen(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const createAndAdd = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const p = await api.post('/api/v1/playlists', { title: title.trim() });
      setTitle('');
      await addTo(p);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return html`<div class="add-to-playlist" ref=${root}>
    <button type="button" class=${labelled ? 'btn' : 'icon-btn'} data-testid="add-to-playlist"
      aria-label=${labelled ? undefined : name} title=${added ? `Added to ${added}` : name}
      aria-haspopup="dialog" aria-expanded=${open ? 'true' : 'false'} disabled=${!addable} onClick=${toggle}>
      <${Icon} name=${added ? 'check' : 'playlist'} />${labelled && ' Add to playlist'}
    </button>
    <span class=${labelled ? 'sub' : 'visually-hidden'} role="status">${added ? `Added to “${added}”.` : ''}</span>
    ${open &&
    html`<div class="playlist-menu" role="dialog" aria-label=${name}>
      ${error && html`<p class="error-text" role="alert">${error.message}</p>`}
      ${lists === null
        ? !error && html`<p class="sub">Loading your playlists…</p>`
        : html`<ul>
            ${lists.map(
              (p) => html`<li key=${p.id}>
                <button type="button" class="menu-item" data-testid="playlist-choice" disabled=${busy} onClick=${() => addTo(p)}>
                  ${p.title} <span class="sub">${p.public ? 'public' : 'private'}</span>
                </button>
              </li>`,
            )}
          </ul>`}
      <form class="new-playlist" onSubmit=${createAndAdd}>
        <label class="visually-hidden" for=${`new-playlist-${track.id}`}>New playlist</label>
        <input id=${`new-playlist-${track.id}`} data-testid="new-playlist-title" placeholder="New playlist" required maxlength="200"
          value=${title} onInput=${(e) => setTitle(e.currentTarget.value)} />
        <button class="btn small" data-testid="new-playlist-create" disabled=${busy}>Create and add</button>
      </form>
    </div>`}
  </div>`;
}
