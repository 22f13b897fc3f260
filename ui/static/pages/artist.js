// An artist: profile, albums and tracks. The owner (or an admin) can edit
// the profile here.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { AlbumGrid, Avatar, Banner, Empty, ErrorBox, PicturePickers, Status, TrackList } from '../components.js';
import { player } from '../player.js';
import { plural } from '../format.js';
import { isAdmin, refreshSession, useSession } from '../session.js';
import { ArtistListening } from './anomalies.js';

export function ArtistPage({ params }) {
  const s = useSession();
  const artist = useFetch(`/api/v1/artists/${params.id}`);
  const albums = useFetch(`/api/v1/albums?artist_id=${params.id}&limit=50`);
  const tracks = useFetch(`/api/v1/tracks?artist_id=${params.id}&limit=100`);
  const supporters = useFetch(`/api/v1/artists/${params.id}/supporters`);
  const [editing, setEditing] = useState(false);
  useTitle(artist.data?.name);

  if (!artist.data) return html`<div class="page"><${Status} result=${artist} /></div>`;
  const a = artist.data;
  const canEdit = isAdmin(s) || (s.user && s.user.id === a.owner_id);
  const items = tracks.data?.items || [];

  return html`<div class="page">
    <${Banner} url=${a.header_url} />
    <header class="page-head">
      <${Avatar} url=${a.avatar_url} name=${a.name} large />
      <div>
        <p class="eyebrow">Artist</p>
        <h1>${a.name}</h1>
        <p class="sub">${plural(a.track_count ?? items.length, 'track')}</p>
        ${a.bio && html`<p class="bio">${a.bio}</p>`}
        <${Supporters} data=${supporters.data} />
        <div class="actions">
          <button type="button" class="btn primary" disabled=${!items.length} onClick=${() => player.playQueue(items, 0)}>Play all</button>
          ${canEdit && html`<button type="button" class="btn" aria-expanded=${editing} onClick=${() => setEditing(!editing)}>Edit profile</button>`}
        </div>
      </div>
    </header>

    ${editing &&
    html`<${ArtistForm}
      artist=${a}
      onSaved=${(updated) => {
        artist.setData(updated);
        setEditing(false);
        refreshSession();
      }} />`}
    ${editing &&
    html`<${PicturePickers} base=${`/api/v1/artists/${a.id}/pictures`} record=${a} onChange=${(updated) => artist.setData(updated)} />`}

    ${canEdit && html`<${ArtistListening} artistID=${a.id} />`}

    <section>
      <h2>Albums</h2>
      <${Status} result=${albums} />
      ${albums.data?.items.length === 0 && html`<p class="sub">No albums.</p>`}
      ${albums.data?.items.length > 0 && html`<${AlbumGrid} albums=${albums.data.items} />`}
    </section>

    <section>
      <h2>Tracks</h2>
      <${Status} result=${tracks} />
      ${tracks.data && items.length === 0 && html`<${Empty}><p>No tracks yet.</p></${Empty}>`}
      ${items.length > 0 && html`<${TrackList} tracks=${items} showArtist=${false} showAlbum />`}
    </section>
  </div>`;
}

function ArtistForm({ artist, onSaved }) {
  const [name, setName] = useState(artist.name);
  const [bio, setBio] = useState(artist.bio || '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSaved(await api.patch(`/api/v1/artists/${artist.id}`, { name, bio }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="panel form" onSubmit=${submit}>
    <h2>Edit profile</h2>
    <${ErrorBox} error=${error} />
    <label>Name<input required value=${name} onInput=${(e) => setName(e.currentTarget.value)} /></label>
    <label>Bio<textarea rows="4" value=${bio} onInput=${(e) => setBio(e.currentTarget.value)}></textarea></label>
    <button class="btn primary" disabled=${busy}>${busy ? 'Saving…' : 'Save'}</button>
  </form>`;
}

// Supporters are listeners of other nodes whose subscription supports the
// artist (they follow them): counted per node; the artist also sees who.
function Supporters({ data }) {
  if (!data || (data.count === 0 && !data.items?.length)) return null;
  return html`<div class="sub" data-testid="supporters">
    <p>${plural(data.count, 'supporter')} on other servers${data.nodes.length > 0 && html`: ${data.nodes.map((n, i) => html`${i > 0 ? ', ' : ''}${n.node} (${n.count})`)}`}</p>
    ${data.items?.length > 0 && html`<ul class="plain">${data.items.map((s) => html`<li key=${s.actor}><a href=${s.actor} rel="noopener noreferrer">${s.actor}</a> — ${s.status}, paid through ${s.paid_through}</li>`)}</ul>`}
  </div>`;
}
