// One playlist: play it all through the player's queue; its owner also
// reorders, removes, renames and describes it, makes it public or private,
// and deletes it. RemotePlaylistPage shows the copy of a playlist that
// someone the user follows published on another server: its text comes
// from there and is shown as text, its links are http(s) only.
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { Icon } from '../icons.js';
import { useFetch, useTitle } from '../hooks.js';
import { Cover, Empty, ErrorBox, Guard, Status } from '../components.js';
import { webURL } from '../federation.js';
import { formatDuration, plural } from '../format.js';
import { player } from '../player.js';
import { AddToPlaylist, queueItem } from '../playlist-items.js';
import { navigate } from '../router.js';
import { useSession } from '../session.js';
import { useStore } from '../store.js';

export function PlaylistPage({ params }) {
  const s = useSession();
  const list = useFetch(`/api/v1/playlists/${params.id}`);
  useTitle(list.data?.title);
  if (!list.data) return html`<div class="page"><${Status} result=${list} /></div>`;
  const p = list.data;
  const mine = !!s.user && s.user.id === p.owner_id;
  return html`<div class="page">
    <${Head} playlist=${p} owner=${html`<a href=${`/app/users/${p.owner_id}/playlists`}>${p.owner}</a>`} />
    <${Tracks} playlist=${p} editable=${mine} onChange=${list.setData} onRemoved=${list.reload} />
    ${mine && html`<${Manage} playlist=${p} onChange=${(updated) => list.setData((d) => ({ ...d, ...updated, items: d.items }))} />`}
  </div>`;
}

export function RemotePlaylistPage({ params }) {
  return html`<div class="page"><${Guard}><${RemotePlaylist} id=${params.id} /></${Guard}></div>`;
}

function RemotePlaylist({ id }) {
  const list = useFetch(`/api/v1/remote/playlists/${id}`);
  useTitle(list.data?.title);
  if (!list.data) return html`<${Status} result=${list} />`;
  const p = list.data;
  const origin = webURL(p.remote_id);
  return html`<${Head} playlist=${p} owner=${html`<span>${p.owner}</span>`}
      note=${origin && html`<p class="remote-note">Published on <strong>${origin.host}</strong> · <a href=${origin.href} target="_blank" rel="noopener noreferrer">Open there<span class="visually-hidden"> (opens in a new tab)</span></a></p>`} />
    <${Tracks} playlist=${p} />`;
}

function Head({ playlist: p, owner, note }) {
  const items = p.items || [];
  const queue = useMemo(() => items.map(queueItem), [items]);
  const total = items.reduce((sum, it) => sum + ((it.track || it.remote).duration_ms || 0), 0);
  const first = queue.findIndex(playable);
  return html`<header class="page-head">
    <${Cover} url=${null} title=${p.title || '♪'} size=${600} />
    <div>
      <p class="eyebrow">${p.owner_id ? `${p.public ? 'Public' : 'Private'} playlist` : 'Playlist on another server'}</p>
      <h1 data-testid="playlist-heading">${p.title || 'Untitled playlist'}</h1>
      <p>by ${owner}</p>
      ${p.description && html`<p class="bio" data-testid="playlist-description">${p.description}</p>`}
      <p class="sub" data-testid="playlist-details">${[plural(items.length, 'track'), formatDuration(total)].join(' · ')}</p>
      ${note}
      <div class="actions">
        <button type="button" class="btn primary" data-testid="playlist-play" disabled=${first < 0} onClick=${() => player.playQueue(queue, first)}>Play all</button>
        <button type="button" class="btn" disabled=${first < 0} onClick=${() => player.enqueue(queue)}>Add to queue</button>
      </div>
    </div>
  </header>`;
}

// playable tells the tracks the player can stream (as player.js does).
const playable = (t) => (t.remote ? !!t.hls_url : t.status === 'ready');

const nowPlaying = (st) => ({ id: st.queue[st.index]?.id ?? null, playing: st.playing });

// Tracks lists the items; an editable list moves and removes them, another
// offers to add them to one's own playlists. A move
// names the position among all the playlist's items (some may be hidden
// from view), so moving up takes the place of the item shown above.
function Tracks({ playlist: p, editable = false, onChange, onRemoved }) {
  const items = p.items || [];
  const queue = useMemo(() => items.map(queueItem), [items]);
  const now = useStore(player.store, nowPlaying);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (!items.length) {
    return html`<${Empty}><p>${editable ? 'No tracks yet: add some with the playlist button of any track.' : 'This playlist has no tracks.'}</p></${Empty}>`;
  }
  const act = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const move = (it, to) => act(async () => onChange(await api.patch(`/api/v1/playlists/${p.id}/items/${it.id}`, { position: to.position })));
  const remove = (it) =>
    act(async () => {
      await api.delete(`/api/v1/playlists/${p.id}/items/${it.id}`);
      onRemoved();
    });

  return html`
    <${ErrorBox} error=${error} />
    <ol class="tracks" data-testid="playlist-tracks">
      ${items.map((it, i) => {
        const t = queue[i];
        const current = t.id === now.id;
        const streams = playable(t);
        const label = current && now.playing ? `Pause ${t.title}` : `Play ${t.title}`;
        return html`<li class=${current ? 'track-row current' : 'track-row'} key=${it.id} data-testid="playlist-track">
          <span class="num">${i + 1}</span>
          <button type="button" class="icon-btn" aria-label=${label} disabled=${!streams}
            onClick=${() => (current ? player.toggle() : player.playQueue(queue, i))}>
            <${Icon} name=${current && now.playing ? 'pause' : 'play'} />
          </button>
          <div class="meta">
            ${t.remote
              ? t.page_url
                ? html`<a class="title" href=${t.page_url} target="_blank" rel="noopener noreferrer" data-testid="playlist-track-title">${t.title}<span class="visually-hidden"> (opens on ${t.host} in a new tab)</span></a>`
                : html`<span class="title" data-testid="playlist-track-title">${t.title}</span>`
              : html`<a class="title" href=${`/app/tracks/${t.id}`} data-testid="playlist-track-title">${t.title}</a>`}
            <span class="sub">
              ${t.remote ? html`${t.artist} · ${t.host}` : html`<a href=${`/app/artists/${t.artist_id}`}>${t.artist}</a>`}
              ${!streams && html` <span class="badge">no stream</span>`}
            </span>
          </div>
          <span class="dur">${formatDuration(t.duration_ms)}</span>
          <button type="button" class="icon-btn" aria-label=${`Add ${t.title} to queue`} disabled=${!streams} onClick=${() => player.enqueue([t])}>
            <${Icon} name="add" />
          </button>
          ${!editable && html`<${AddToPlaylist} track=${t} />`}
          ${editable &&
          html`<span class="row-actions">
            <button type="button" class="icon-btn" data-testid="playlist-up" aria-label=${`Move ${t.title} up`} disabled=${busy || i === 0}
              onClick=${() => move(it, items[i - 1])}><${Icon} name="up" /></button>
            <button type="button" class="icon-btn" data-testid="playlist-down" aria-label=${`Move ${t.title} down`} disabled=${busy || i === items.length - 1}
              onClick=${() => move(it, items[i + 1])}><${Icon} name="down" /></button>
            <button type="button" class="icon-btn" data-testid="playlist-remove" aria-label=${`Remove ${t.title} from the playlist`} disabled=${busy}
              onClick=${() => remove(it)}><${Icon} name="close" /></button>
          </span>`}
        </li>`;
      })}
    </ol>`;
}

function Manage({ playlist: p, onChange }) {
  const [title, setTitle] = useState(p.title);
  const [description, setDescription] = useState(p.description || '');
  const [isPublic, setPublic] = useState(p.public);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onChange(await api.patch(`/api/v1/playlists/${p.id}`, { title: title.trim(), description, public: isPublic }));
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete “${p.title}”? This cannot be undone.`)) return;
    setBusy(true);
    try {
      await api.delete(`/api/v1/playlists/${p.id}`);
      navigate('/app/playlists');
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<section class="panel" aria-labelledby="manage-playlist-title">
    <h2 id="manage-playlist-title">Manage playlist</h2>
    <form class="form" data-testid="playlist-edit" onSubmit=${save}>
      <${ErrorBox} error=${error} />
      <label>Title
        <input data-testid="playlist-edit-title" required maxlength="200" value=${title} onInput=${(e) => setTitle(e.currentTarget.value)} />
      </label>
      <label>Description
        <textarea rows="3" maxlength="2000" value=${description} onInput=${(e) => setDescription(e.currentTarget.value)}></textarea>
      </label>
      <label class="check">
        <input type="checkbox" data-testid="playlist-edit-public" checked=${isPublic} onChange=${(e) => setPublic(e.currentTarget.checked)} />
        Public: anyone can see it, and people who follow you on other servers get it
      </label>
      <div class="actions">
        <button class="btn primary" data-testid="playlist-save" disabled=${busy}>${busy ? 'Saving…' : 'Save changes'}</button>
        ${saved && html`<span class="sub" role="status">Saved.</span>`}
      </div>
    </form>
    <div class="actions danger-zone">
      <button type="button" class="btn danger" disabled=${busy} onClick=${remove}>Delete playlist</button>
    </div>
  </section>`;
}
