// The catalogue of an artist on another server, read from its outbox by
// this node. Its tracks stream straight from that server; their listens
// belong to it and are not counted here.
import { useMemo } from 'preact/hooks';
import { query } from '../api.js';
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { Cover, Empty, Guard, Status, initials } from '../components.js';
import { Handle, handleOf, hostOf, remoteTrack } from '../federation.js';
import { formatDuration, plural } from '../format.js';
import { Icon } from '../icons.js';
import { player } from '../player.js';
import { AddToPlaylist } from '../playlist-items.js';
import { useRoute } from '../router.js';
import { useStore } from '../store.js';

const LIMIT = 50;

export function RemoteCatalogue() {
  const route = useRoute();
  const handle = (new URLSearchParams(route.search).get('handle') || '').trim();
  useTitle(handle || 'Catalogue');
  return html`<div class="page">
    <${Guard}>
      ${handle
        ? html`<${Catalogue} key=${handle} handle=${handle} />`
        : html`<${Empty}>
            <p>No artist given. Browse the catalogue of an artist you follow.</p>
            <a class="btn primary" href="/app/following">Following</a>
          </${Empty}>`}
    </${Guard}>
  </div>`;
}

function Catalogue({ handle }) {
  const cat = useFetch(`/api/v1/remote/catalogue${query({ handle, limit: LIMIT })}`);
  const data = cat.data;
  const tracks = useMemo(() => (data ? data.tracks.map((t) => remoteTrack(data.actor, t)) : []), [data]);
  if (!data) {
    return html`<h1 class="remote-handle">${handle}</h1>
      <${Status} result=${cat} label="Loading the catalogue…" />`;
  }

  const { actor } = data;
  const name = actor.name || handleOf(actor);
  const host = hostOf(actor) || tracks[0]?.host || '';
  const playable = tracks.some((t) => t.hls_url);
  return html`
    <header class="page-head">
      <div class="avatar large" aria-hidden="true">${initials(name) || '?'}</div>
      <div>
        <p class="eyebrow">Artist on another server</p>
        <h1>${name}</h1>
        <p class="sub"><${Handle} actor=${actor} /> · ${plural(tracks.length, 'track')}</p>
        ${host && html`<p class="remote-note" data-testid="remote-host">Streaming from <strong>${host}</strong></p>`}
        <div class="actions">
          <button type="button" class="btn primary" data-testid="remote-play-all" disabled=${!playable}
            onClick=${() => player.playQueue(tracks, tracks.findIndex((t) => t.hls_url))}>Play all</button>
          <a class="btn" href="/app/following">Following</a>
        </div>
      </div>
    </header>
    <section aria-labelledby="remote-tracks-title">
      <h2 id="remote-tracks-title">Tracks</h2>
      ${tracks.length
        ? html`<${RemoteTrackList} tracks=${tracks} />`
        : html`<${Empty}><p>${handleOf(actor)} has not published any tracks yet.</p></${Empty}>`}
    </section>`;
}

const nowPlaying = (s) => ({ id: s.queue[s.index]?.id ?? null, playing: s.playing });

// RemoteTrackList is TrackList for remote tracks: they have no page on
// this node, so the title is plain text. Playing a row plays the list on.
function RemoteTrackList({ tracks }) {
  const now = useStore(player.store, nowPlaying);
  return html`<ol class="tracks" data-testid="remote-tracks">
    ${tracks.map((t, i) => {
      const current = t.id === now.id;
      const label = current && now.playing ? `Pause ${t.title}` : `Play ${t.title}`;
      const details = [t.album, t.genre].filter(Boolean).join(' · ');
      return html`<li class=${current ? 'track-row current' : 'track-row'} key=${t.id} data-testid="remote-track">
        <${Cover} url=${t.cover_url} title=${t.title} size=${48} />
        <button type="button" class="icon-btn" data-testid="remote-play" aria-label=${label} disabled=${!t.hls_url}
          onClick=${() => (current ? player.toggle() : player.playQueue(tracks, i))}>
          <${Icon} name=${current && now.playing ? 'pause' : 'play'} />
        </button>
        <div class="meta">
          <span class="title">${t.title}</span>
          <span class="sub">${details || '\u00a0'}${!t.hls_url && html` <span class="badge">no stream</span>`}</span>
        </div>
        <span class="dur">${formatDuration(t.duration_ms)}</span>
        <button type="button" class="icon-btn" data-testid="remote-enqueue" aria-label=${`Add ${t.title} to queue`}
          disabled=${!t.hls_url} onClick=${() => player.enqueue([t])}>
          <${Icon} name="add" />
        </button>
        <${AddToPlaylist} track=${t} />
      </li>`;
    })}
  </ol>`;
}
