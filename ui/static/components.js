// Building blocks shared by the pages: loading/error/empty states, covers,
// track lists and grids, the edit form and the role guard.
import { useState } from 'preact/hooks';
import { api, setPicture } from './api.js';
import { html } from './html.js';
import { Icon } from './icons.js';
import { coverAt, formatDuration, plural } from './format.js';
import { player } from './player.js';
import { AddToPlaylist } from './playlist-items.js';
import { hasRole, useSession } from './session.js';
import { useStore } from './store.js';

export function Loading({ label = 'Loading…' }) {
  return html`<div class="state" role="status"><span class="spinner" aria-hidden="true"></span> ${label}</div>`;
}

export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  return html`<div class="state error" role="alert">
    <p>${error.message || String(error)}</p>
    ${onRetry && html`<button type="button" class="btn" onClick=${onRetry}>Try again</button>`}
  </div>`;
}

export function Empty({ children }) {
  return html`<div class="state empty">${children}</div>`;
}

// Status renders what a page shows instead of (or above) its data: the
// error of the last load, or a spinner while there is nothing to show yet.
export function Status({ result, label }) {
  if (result.error) return html`<${ErrorBox} error=${result.error} onRetry=${result.reload} />`;
  if (result.loading && !result.data) return html`<${Loading} label=${label} />`;
  return null;
}

export function Cover({ url, title, size = 200 }) {
  // Decorative: the title is always printed next to the cover.
  if (!url) return html`<div class="cover placeholder" aria-hidden="true">${(title || '♪').slice(0, 1)}</div>`;
  return html`<img class="cover" src=${coverAt(url, size)} alt="" loading="lazy" width=${size} height=${size} />`;
}

export function StatusBadge({ track }) {
  if (track.status === 'ready' && !track.hidden) return null;
  const label = track.status !== 'ready' ? track.status : 'hidden';
  return html`<span class=${`badge badge-${label}`}>${label}</span>`;
}

const nowPlaying = (s) => ({ id: s.queue[s.index]?.id ?? null, playing: s.playing });

// TrackList shows tracks as rows. Playing a row replaces the queue with the
// whole list starting at that row, so an album or result list plays on;
// a logged-in listener can also add a row's track to a playlist.
export function TrackList({ tracks, numbered = false, showArtist = true, showAlbum = false }) {
  const now = useStore(player.store, nowPlaying);
  return html`<ol class="tracks">
    ${tracks.map((t, i) => {
      const current = t.id === now.id;
      const label = current && now.playing ? `Pause ${t.title}` : `Play ${t.title}`;
      return html`<li class=${current ? 'track-row current' : 'track-row'} key=${t.id}>
        ${numbered
          ? html`<span class="num">${t.track_number || i + 1}</span>`
          : html`<${Cover} url=${t.cover_url} title=${t.title} size=${48} />`}
        <button type="button" class="icon-btn" aria-label=${label} disabled=${t.status !== 'ready'}
          onClick=${() => (current ? player.toggle() : player.playQueue(tracks, i))}>
          <${Icon} name=${current && now.playing ? 'pause' : 'play'} />
        </button>
        <div class="meta">
          <a class="title" href=${`/app/tracks/${t.id}`}>${t.title}</a> <${StatusBadge} track=${t} />
          <span class="sub">
            ${showArtist && html`<a href=${`/app/artists/${t.artist_id}`}>${t.artist}</a>`}
            ${showArtist && showAlbum && t.album_id && ' · '}
            ${showAlbum && t.album_id && html`<a href=${`/app/albums/${t.album_id}`}>${t.album}</a>`}
          </span>
        </div>
        <span class="dur">${formatDuration(t.duration_ms)}</span>
        <button type="button" class="icon-btn" aria-label=${`Add ${t.title} to queue`} disabled=${t.status !== 'ready'}
          onClick=${() => player.enqueue([t])}>
          <${Icon} name="add" />
        </button>
        <${AddToPlaylist} track=${t} />
      </li>`;
    })}
  </ol>`;
}

// initials of a name, for the round placeholder of an artist's picture.
export const initials = (name) =>
  name
    .split(/\s+/)
    .slice(0, 2)
    .map((w) => w[0] || '')
    .join('')
    .toUpperCase();

// Avatar shows a profile picture, or the initials of the name when there
// is none. Decorative: the name is always printed next to it. Pictures of
// other servers' actors load from there, sent no referrer (the page
// address says what the listener is looking at).
export function Avatar({ url, name, large = false }) {
  const cls = large ? 'avatar large' : 'avatar';
  if (!url) return html`<div class=${cls} aria-hidden="true">${initials(name || '?') || '?'}</div>`;
  return html`<img class=${`${cls} picture`} src=${url} alt="" loading="lazy" referrerpolicy="no-referrer" data-testid="avatar" />`;
}

// Banner is a profile's header picture across the top of its page.
export function Banner({ url }) {
  if (!url) return null;
  return html`<img class="profile-header" src=${url} alt="" referrerpolicy="no-referrer" data-testid="banner" />`;
}

const pictureKinds = [
  { kind: 'avatar', label: 'Avatar', add: 'Add an avatar', hint: 'Cropped to a square, 400×400.' },
  { kind: 'header', label: 'Header', add: 'Add a header', hint: 'Cropped to 3:1, 1500×500.' },
];

// PicturePickers sets or removes the avatar and header of a profile (yours,
// or an artist profile's) under base, .../pictures; onChange gets the
// updated profile. The server re-encodes each picture: what it keeps of a
// photo is its pixels, not its EXIF (where it was taken).
export function PicturePickers({ base, record, onChange }) {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const run = async (kind, work) => {
    setBusy(kind);
    setError(null);
    try {
      onChange(await work());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const choose = (kind) => (e) => {
    const file = e.currentTarget.files?.[0];
    e.currentTarget.value = '';
    if (file) run(kind, () => setPicture(`${base}/${kind}`, file).done);
  };
  return html`<div class="pictures" aria-busy=${busy !== null} data-testid="pictures">
    <h3>Pictures</h3>
    <${ErrorBox} error=${error} />
    ${pictureKinds.map(({ kind, label, add, hint }) => {
      const url = record[`${kind}_url`];
      return html`<div class="picture-row" key=${kind}>
        ${kind === 'avatar' ? html`<${Avatar} url=${url} name=${record.display_name || record.name || record.username} />` : url ? html`<img class="profile-header small" src=${url} alt="" />` : html`<div class="profile-header small placeholder" aria-hidden="true"></div>`}
        <div>
          <label class=${busy ? 'btn file-btn disabled' : 'btn file-btn'}>
            ${url ? `Replace ${kind}` : add}
            <input type="file" class="visually-hidden" accept="image/jpeg,image/png,image/gif" data-testid=${`${kind}-input`}
              disabled=${busy !== null} onChange=${choose(kind)} />
          </label>
          ${url && html` <button type="button" class="btn" disabled=${busy !== null} data-testid=${`${kind}-remove`}
            onClick=${() => run(kind, () => api.delete(`${base}/${kind}`))}>Remove</button>`}
          <p class="sub">${label}: a JPEG, PNG or GIF up to 10 MiB. ${hint}</p>
          <p class="sub" role="status">${busy === kind && html`<span class="spinner" aria-hidden="true"></span> Saving ${kind}…`}</p>
        </div>
      </div>`;
    })}
  </div>`;
}

export function ArtistGrid({ artists }) {
  return html`<ul class="grid">
    ${artists.map(
      (a) => html`<li key=${a.id}>
        <a class="card" href=${`/app/artists/${a.id}`}>
          <${Avatar} url=${a.avatar_url} name=${a.name} />
          <strong>${a.name}</strong>
          <span class="sub">${plural(a.track_count ?? 0, 'track')}</span>
        </a>
      </li>`,
    )}
  </ul>`;
}

export function AlbumGrid({ albums }) {
  return html`<ul class="grid">
    ${albums.map(
      (a) => html`<li key=${a.id}>
        <a class="card" href=${`/app/albums/${a.id}`}>
          <${Cover} url=${a.cover_url} title=${a.title} />
          <strong>${a.title}</strong>
          <span class="sub">${[a.year || '', plural(a.track_count ?? 0, 'track')].filter(Boolean).join(' · ')}</span>
        </a>
      </li>`,
    )}
  </ul>`;
}

// EditForm edits some fields of a record, each { key, label, type, required }
// with type 'text' (the default) or 'number' (sent as a number, 0 when left
// empty). Only changed fields are passed to onSave(patch), so a save never
// overwrites what someone else changed in a field this form did not touch.
// When onSave throws, its message (the server's detail) is shown.
export function EditForm({ fields, record, onSave, testid }) {
  const initial = (f) => (f.type === 'number' ? record[f.key] || '' : (record[f.key] ?? ''));
  const [form, setForm] = useState(() => Object.fromEntries(fields.map((f) => [f.key, initial(f)])));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    const patch = {};
    for (const { key, type } of fields) {
      const value = type === 'number' ? Number(form[key]) || 0 : String(form[key]).trim();
      if (value !== (record[key] ?? (type === 'number' ? 0 : ''))) patch[key] = value;
    }
    setError(null);
    setSaved(false);
    if (!Object.keys(patch).length) return setSaved(true);
    setBusy(true);
    try {
      await onSave(patch);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="form grid-form" data-testid=${testid} onSubmit=${submit}>
    <${ErrorBox} error=${error} />
    ${fields.map(
      ({ key, label, type = 'text', required }) => html`<label key=${key}>${label}
        <input type=${type} min=${type === 'number' ? 0 : undefined} required=${!!required} value=${form[key]}
          onInput=${(e) => {
            const { value } = e.currentTarget;
            setForm((f) => ({ ...f, [key]: value }));
          }} />
      </label>`,
    )}
    <div class="actions">
      <button class="btn primary" disabled=${busy}>${busy ? 'Saving…' : 'Save changes'}</button>
      ${saved && html`<span class="sub" role="status">Saved.</span>`}
    </div>
  </form>`;
}

// Guard renders its children only for a logged-in user with at least the
// given role, and otherwise says what to do about it.
export function Guard({ role = 'listener', children }) {
  const s = useSession();
  if (s.loading) return html`<${Loading} />`;
  if (!s.user) {
    const next = encodeURIComponent(location.pathname + location.search);
    return html`<${Empty}>
      <p>Log in to see this page.</p>
      <a class="btn primary" href=${`/app/login?next=${next}`}>Log in</a>
    </${Empty}>`;
  }
  if (!hasRole(s.user, role)) {
    return role === 'artist'
      ? html`<${Empty}>
          <p>This page is for artists.</p>
          <a class="btn primary" href="/app/become-artist">Become an artist</a>
        </${Empty}>`
      : html`<${Empty}><p>This page is for administrators of this node.</p></${Empty}>`;
  }
  return children;
}
