// An album: cover, details and its tracks in track-number order. The owner
// of the album's artist profile (or an admin) can edit its details and
// replace its cover here.
import { useState } from 'preact/hooks';
import { api, setAlbumCover } from '../api.js';
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { Cover, EditForm, Empty, ErrorBox, Status, TrackList } from '../components.js';
import { coverReplaced, formatDuration, plural } from '../format.js';
import { player } from '../player.js';
import { canEditAlbum, useSession } from '../session.js';

export function AlbumPage({ params }) {
  const s = useSession();
  const album = useFetch(`/api/v1/albums/${params.id}`);
  useTitle(album.data?.title);
  if (!album.data) return html`<div class="page"><${Status} result=${album} /></div>`;

  const a = album.data;
  const tracks = a.tracks || [];
  const total = tracks.reduce((sum, t) => sum + (t.duration_ms || 0), 0);
  // An edit answers with the album without its tracks: show it at once,
  // then load the whole album again.
  const changed = (updated) => {
    album.setData((d) => ({ ...d, ...updated }));
    album.reload();
  };
  return html`<div class="page">
    <header class="page-head">
      <${Cover} url=${a.cover_url} title=${a.title} size=${600} />
      <div>
        <p class="eyebrow">Album</p>
        <h1>${a.title}</h1>
        <p><a href=${`/app/artists/${a.artist_id}`}>${a.artist}</a></p>
        <p class="sub" data-testid="album-details">${[a.year, a.genre, plural(tracks.length, 'track'), formatDuration(total)].filter(Boolean).join(' · ')}</p>
        <div class="actions">
          <button type="button" class="btn primary" disabled=${!tracks.length} onClick=${() => player.playQueue(tracks, 0)}>Play all</button>
          <button type="button" class="btn" disabled=${!tracks.length} onClick=${() => player.enqueue(tracks)}>Add to queue</button>
        </div>
      </div>
    </header>
    ${tracks.length === 0
      ? html`<${Empty}><p>This album has no playable tracks yet.</p></${Empty}>`
      : html`<${TrackList} tracks=${tracks} numbered showArtist=${false} />`}

    ${canEditAlbum(s, a) && html`<${AlbumEditor} album=${a} onChange=${changed} />`}
  </div>`;
}

const fields = [
  { key: 'title', label: 'Title', required: true },
  { key: 'year', label: 'Year', type: 'number' },
  { key: 'genre', label: 'Genre' },
];

function AlbumEditor({ album, onChange }) {
  const save = async (patch) => onChange(await api.patch(`/api/v1/albums/${album.id}`, patch));
  return html`<section class="panel">
    <h2>Manage album</h2>
    <${EditForm} fields=${fields} record=${album} onSave=${save} testid="album-edit" />
    <${CoverPicker} album=${album} onChange=${onChange} />
  </section>`;
}

// CoverPicker uploads a new cover as soon as a picture is chosen.
function CoverPicker({ album, onChange }) {
  const [sent, setSent] = useState(null); // 0–1 while uploading, else null
  const [error, setError] = useState(null);
  const busy = sent !== null;

  const choose = async (e) => {
    const file = e.currentTarget.files[0];
    e.currentTarget.value = ''; // allow choosing the same file again
    if (!file) return;
    setError(null);
    setSent(0);
    try {
      const updated = await setAlbumCover(album.id, file, { onProgress: setSent }).done;
      coverReplaced(updated.cover_url);
      onChange(updated);
    } catch (err) {
      setError(err);
    } finally {
      setSent(null);
    }
  };

  return html`<div class="cover-picker" aria-busy=${busy}>
    <h3>Cover</h3>
    <${ErrorBox} error=${error} />
    <div class="cover-row">
      <${Cover} url=${album.cover_url} title=${album.title} size=${200} />
      <div>
        <label class=${busy ? 'btn file-btn disabled' : 'btn file-btn'}>
          ${album.cover_url ? 'Replace cover' : 'Add a cover'}
          <input type="file" class="visually-hidden" accept="image/jpeg,image/png,image/webp" data-testid="album-cover-input"
            disabled=${busy} aria-describedby="album-cover-hint" onChange=${choose} />
        </label>
        <p class="sub" id="album-cover-hint">A JPEG, PNG or WebP picture; square looks best.</p>
        <p class="sub" role="status">
          ${busy && html`<span class="spinner" aria-hidden="true"></span> ${sent < 1 ? 'Uploading cover…' : 'Resizing cover…'}`}
        </p>
        ${busy && sent < 1 && html`<progress max="1" value=${sent} aria-label="Cover upload"></progress>`}
      </div>
    </div>
  </div>`;
}
